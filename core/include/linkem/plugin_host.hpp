// The plugin host: finds model plugins, checks them, and builds instances from
// a ModelSpec (docs/PLUGINS.md, docs/ARCHITECTURE.md "Plugins").
//
// Search order for a model named in a configuration:
//   1. `plugin: ./dir/model.so` (anything with a '/' or ending in .so) is that
//      file, relative to the configuration file's directory;
//   2. otherwise the model of that name and kind found first in:
//      the directories of LINKEM_PLUGIN_PATH (':'-separated), the build tree's
//      plugins directory, the install prefix's plugins directory.
// Two plugins of the same kind and name in one directory are an error; a
// later directory's model of the same name is shadowed by an earlier one.
//
// Every refusal names the plugin's path and, when known, the model: dlopen
// failure (with dlerror()), no lkm_entry symbol, another ABI major or a newer
// minor, a descriptor smaller than ABI 1.0's, an unknown kind, a missing
// callback for its kind, an invalid or duplicate name.
#pragma once

#include "linkem/config.hpp"

#include <linkem/plugin.h>

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

// One instance of a model for one link. Non-copyable; destroys its state.
class ModelInstance {
  public:
    ModelInstance(LoadedModel loaded, void *state) : loaded_(std::move(loaded)), state_(state) {}
    ~ModelInstance();
    ModelInstance(const ModelInstance &) = delete;
    ModelInstance &operator=(const ModelInstance &) = delete;

    const lkm_model &model() const { return *loaded_.model; }
    void *state() const { return state_; }
    const std::string &path() const { return loaded_.path; }
    // A loss model's long-run loss fraction, when it states one (ABI 1.1
    // expected_loss; a 1.0 descriptor or a negative answer means unknown).
    std::optional<double> expected_loss() const;

  private:
    LoadedModel loaded_;
    void *state_;
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
    std::vector<LoadedModel> discover(std::vector<std::string> *problems) const;

    // Builds the instance for spec (its kind given), with its own random
    // stream from (seed, link name, kind). Errors, each positioned at the
    // parameter or the spec, are appended to *errors; returns null then.
    std::unique_ptr<ModelInstance> instantiate(const Config &config, const ModelSpec &spec, uint32_t kind, const std::string &link_name,
                                               uint64_t seed, std::vector<ConfigError> *errors) const;

  private:
    bool find(const std::string &name, uint32_t kind, LoadedModel *out, std::string *error) const;
    std::vector<std::string> search_path_;
};

// The seeded generator state for one instance: (global seed, link, kind).
lkm_rng instance_rng(uint64_t seed, const std::string &link_name, uint32_t kind);

}  // namespace linkem
