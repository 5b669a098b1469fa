// The plugin host: finds model plugins, checks them, and builds instances from
// a ModelSpec (docs/PLUGINS.md, docs/ARCHITECTURE.md "Plugins").
//
// Search order for a model named in a configuration:
//   1. `plugin: ./dir/model.so` (anything with a '/' or ending in .so) is that
//      file, relative to the configuration file's directory;
//   2. otherwise the model of that name and kind found first in:
//      the directories of LINKEM_PLUGIN_PATH (':'-separated), the build tree's
//      plugins directory, the install prefix's plugins directory.
//      In each directory only two files can hold it, found by their names
//      alone: lkm_<kind>_<name>.so (as the built-in models are named) and
//      <name>.so. Nothing else on the path is opened: a broken or hostile
//      shared object there cannot affect a configuration that does not name it.
// Both files holding the model in one directory are an error; a later
// directory's model of the same name is shadowed by an earlier one.
//
// Each shared object is opened at most once per PluginHost (linkem and
// linkem-sim make one), and each (kind, name) resolved once: a per-flow
// template's 65 536 instances open one file per model, not every file each.
// discover() (--list-plugins) opens every .so on the path. A PluginHost is
// used by one thread (the control thread).
//
// Every refusal names the plugin's path and, when known, the model: dlopen
// failure (with dlerror()), no lkm_entry symbol, another ABI major or a newer
// minor, a descriptor smaller than ABI 1.0's, an unknown kind, a missing
// callback for its kind, an invalid or duplicate name, an extension (ABI
// 1.2) too small or without its callback; and, at create(), a
// model that returns 0 without setting its state (NULL).
#pragma once

#include "linkem/config.hpp"

#include <linkem/plugin.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace linkem {

// A loaded, checked plugin. The shared object stays loaded while any copy lives.
struct LoadedModel {
    std::string path;  // the .so it came from
    const lkm_model *model = nullptr;
    std::shared_ptr<void> handle;  // dlclose()s when the last user goes
};

// A model's extension (ABI 1.2, lkm_model.get_extension) of this id, or
// null: for a descriptor older than 1.2, without get_extension, or one that
// does not implement it. load_file() has checked the extensions' sizes.
const void *model_extension(const lkm_model &model, const char *id);

// The smallest and largest value a model states (lkm_ext_bounds).
struct Bounds {
    uint64_t min = 0, max = 0;  // max may be LKM_UNBOUNDED
};

// One instance of a model for one link. Non-copyable; destroys its state.
class ModelInstance {
  public:
    ModelInstance(LoadedModel loaded, void *state);
    ~ModelInstance();
    ModelInstance(const ModelInstance &) = delete;
    ModelInstance &operator=(const ModelInstance &) = delete;

    const lkm_model &model() const { return *loaded_.model; }
    void *state() const { return state_; }
    const std::string &path() const { return loaded_.path; }
    // A loss model's long-run loss fraction, when it states one: the 1.2
    // bounds extension's loss, else ABI 1.1's expected_loss; an older
    // descriptor, neither callback, or a refusal means unknown.
    std::optional<double> expected_loss() const;
    // A delay model's smallest and largest delay in ns, when it states them (lkm_ext_bounds).
    std::optional<Bounds> delay_bounds() const;
    // A bandwidth model's lowest and highest rate in bit/s, when it states them (lkm_ext_bounds).
    std::optional<Bounds> rate_bounds() const;
    // The model's reset callback (lkm_ext_reset), or null when it has none.
    void (*reset_callback() const)(void *state) { return reset_ != nullptr ? reset_->reset : nullptr; }
    // The model's carry callback (lkm_ext_carry), or null when it has none.
    void (*carry_callback() const)(void *new_state, const void *old_state) { return carry_ != nullptr ? carry_->carry : nullptr; }

  private:
    LoadedModel loaded_;
    void *state_;
    const lkm_ext_reset *reset_ = nullptr;
    const lkm_ext_bounds *bounds_ = nullptr;
    const lkm_ext_carry *carry_ = nullptr;
};

// What the host tells a model about its link at creation (lkm_create_args, ABI 1.2).
struct ModelContext {
    uint64_t link_rate_bps = 0;  // the link's constant rate, 0 when unknown (and for the bandwidth model)
    uint32_t overhead_bytes = 0;
    uint32_t max_burst = 512;  // kMaxBurst
};

const char *kind_name(uint32_t kind);  // "loss", "delay", "bandwidth", or "?"

class PluginHost {
  public:
    // Directories searched by name, in order (see above).
    static std::vector<std::string> default_search_path();
    explicit PluginHost(std::vector<std::string> search_path = default_search_path());

    // Loads and checks one shared object. On failure returns false and sets
    // *error to a message that names the path (and the model when known).
    static bool load_file(const std::string &path, LoadedModel *out, std::string *error);

    // Every model found on the search path (shadowed ones left out), and the
    // problems met on the way (broken files, duplicates), for --list-plugins.
    // Opens every .so on the path.
    std::vector<LoadedModel> discover(std::vector<std::string> *problems) const;

    // The file name under which a model is found by name (lkm_<kind>_<name>.so).
    static std::string file_name_for(uint32_t kind, const std::string &name);
    // How many shared objects this host has opened (each once at most).
    size_t files_opened() const { return opened_.size(); }

    // Builds the instance for spec (its kind given), with its own random
    // stream from (seed, link name, kind) and the link's context. Errors,
    // each positioned at the parameter or the spec, are appended to *errors;
    // returns null then.
    std::unique_ptr<ModelInstance> instantiate(const Config &config, const ModelSpec &spec, uint32_t kind, const std::string &link_name,
                                               uint64_t seed, std::vector<ConfigError> *errors, const ModelContext &context = {}) const;

  private:
    struct Outcome {
        bool ok = false;
        LoadedModel loaded;
        std::string error;
    };
    bool open(const std::string &path, LoadedModel *out, std::string *error) const;  // load_file(), once per path
    bool find(const std::string &name, uint32_t kind, LoadedModel *out, std::string *error) const;
    Outcome resolve(const std::string &name, uint32_t kind) const;
    std::vector<std::string> search_path_;
    mutable std::map<std::string, Outcome> opened_;                      // by path
    mutable std::map<std::pair<uint32_t, std::string>, Outcome> found_;  // by (kind, name)
};

// The seeded generator state for one instance: (global seed, link, kind),
// that is stream_rng(seed, link_name, Stream(kind)) (linkem/seed.hpp).
lkm_rng instance_rng(uint64_t seed, const std::string &link_name, uint32_t kind);

}  // namespace linkem
