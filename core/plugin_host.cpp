#include "linkem/plugin_host.hpp"

#include "linkem/link_model.hpp"
#include "linkem/seed.hpp"
#include "linkem/suggest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <dlfcn.h>
#include <filesystem>
#include <map>
#include <set>

#ifndef LINKEM_BUILD_PLUGIN_DIR
#define LINKEM_BUILD_PLUGIN_DIR ""
#endif
#ifndef LINKEM_INSTALL_PLUGIN_DIR
#define LINKEM_INSTALL_PLUGIN_DIR ""
#endif
#ifndef LINKEM_EXE_RELATIVE_PLUGIN_DIR  // the install's plugin dir seen from its bindir
#define LINKEM_EXE_RELATIVE_PLUGIN_DIR ""
#endif

namespace linkem {
namespace fs = std::filesystem;

namespace {

// The descriptor as ABI 1.0 defines it: anything smaller is refused.
constexpr size_t kMinModelSize = offsetof(lkm_model, finish_ns) + sizeof(void *);

// The descriptor's fields up to and including `field`, as the plugin built it.
#define LKM_HAS_FIELD(m, field) ((m).struct_size >= offsetof(lkm_model, field) + sizeof((m).field))

uint32_t abi_minor(const lkm_model &m) { return m.abi_version & 0xFFFF; }

// The extensions' smallest sizes (ABI 1.2): their struct_size and every callback.
constexpr size_t kMinResetSize = offsetof(lkm_ext_reset, reset) + sizeof(void *);
constexpr size_t kMinBoundsSize = offsetof(lkm_ext_bounds, loss) + sizeof(void *);
constexpr size_t kMinCarrySize = offsetof(lkm_ext_carry, carry) + sizeof(void *);

bool valid_model_name(const char *name) {
    if (name == nullptr || *name == '\0') return false;
    size_t n = 0;
    for (const char *c = name; *c != '\0'; ++c, ++n)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) return false;
    return n <= 32;
}

bool names_a_file(const std::string &plugin) {
    return plugin.find('/') != std::string::npos || (plugin.size() > 3 && plugin.compare(plugin.size() - 3, 3, ".so") == 0);
}

std::vector<std::string> shared_objects_in(const std::string &dir) {
    std::vector<std::string> files;
    std::error_code ec;
    for (const auto &entry : fs::directory_iterator(dir, ec))
        if (entry.path().extension() == ".so" && entry.is_regular_file(ec)) files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    return files;
}

// What the lkm_create_args accessors work on, behind host_private.
struct CreateContext {
    const Config *config;
    const ModelSpec *spec;
    std::vector<ConfigError> *errors;
    std::set<std::string> read;        // keys the model asked for
    std::vector<std::string> scratch;  // strings handed out until create() returns
    size_t errors_before;
};

CreateContext &context(const lkm_create_args *a) { return *static_cast<CreateContext *>(a->host_private); }

void record(CreateContext &ctx, const ModelParam *param, const char *key, std::string message) {
    if (param != nullptr)
        ctx.errors->push_back({ctx.config->file, param->pos, param->path, std::move(message)});
    else if (key != nullptr)
        ctx.errors->push_back({ctx.config->file, ctx.spec->pos, ctx.spec->path + "." + key, std::move(message)});
    else
        ctx.errors->push_back({ctx.config->file, ctx.spec->pos, ctx.spec->path, std::move(message)});
}

// Finds key's value number `index`: LKM_OK with *text set, LKM_ABSENT, or LKM_INVALID (recorded).
int value_of(const lkm_create_args *a, const char *key, uint32_t index, const std::string **text, const ModelParam **param) {
    CreateContext &ctx = context(a);
    if (key == nullptr) return LKM_ABSENT;
    ctx.read.insert(key);
    *param = ctx.spec->find(key);
    if (*param == nullptr) return LKM_ABSENT;
    if (index >= (*param)->values.size()) {
        record(ctx, *param, key,
               (*param)->values.size() == 1 && index > 0
                   ? "expected a list of values, got one value"
                   : fmt::format("has {} values; the model asked for value {}", (*param)->values.size(), index + 1));
        return LKM_INVALID;
    }
    *text = &(*param)->values[index];
    return LKM_OK;
}

template <class T, class Out, class Convert>
int typed(const lkm_create_args *a, const char *key, uint32_t index, Out *out, Convert convert) {
    const std::string *text = nullptr;
    const ModelParam *param = nullptr;
    const int found = value_of(a, key, index, &text, &param);
    if (found != LKM_OK) return found;
    const Parsed<T> parsed = T::parse(*text);
    if (!parsed) {
        record(context(a), param, key, parsed.error);
        return LKM_INVALID;
    }
    *out = convert(*parsed.value);
    return LKM_OK;
}

extern "C" uint32_t host_count(const lkm_create_args *a, const char *key) {
    CreateContext &ctx = context(a);
    if (key == nullptr) return 0;
    ctx.read.insert(key);
    const ModelParam *p = ctx.spec->find(key);
    return p == nullptr ? 0 : static_cast<uint32_t>(p->values.size());
}

extern "C" int host_number(const lkm_create_args *a, const char *key, uint32_t index, double *out) {
    const std::string *text = nullptr;
    const ModelParam *param = nullptr;
    const int found = value_of(a, key, index, &text, &param);
    if (found != LKM_OK) return found;
    errno = 0;
    char *end = nullptr;
    const double v = std::strtod(text->c_str(), &end);
    if (text->empty() || end != text->c_str() + text->size() || errno != 0 || !std::isfinite(v)) {
        record(context(a), param, key, fmt::format("\"{}\" is not a number (examples: 3, 0.5, 1e-6)", *text));
        return LKM_INVALID;
    }
    *out = v;
    return LKM_OK;
}

extern "C" int host_duration(const lkm_create_args *a, const char *key, uint32_t index, uint64_t *out) {
    return typed<Duration>(a, key, index, out, [](Duration d) { return static_cast<uint64_t>(d.ns); });
}
extern "C" int host_rate(const lkm_create_args *a, const char *key, uint32_t index, uint64_t *out) {
    return typed<Rate>(a, key, index, out, [](Rate r) { return r.bits_per_s; });
}
extern "C" int host_size(const lkm_create_args *a, const char *key, uint32_t index, uint64_t *out) {
    return typed<ByteSize>(a, key, index, out, [](ByteSize s) { return s.bytes; });
}
extern "C" int host_probability(const lkm_create_args *a, const char *key, uint32_t index, double *out) {
    return typed<Probability>(a, key, index, out, [](Probability p) { return p.value(); });
}

extern "C" int host_string(const lkm_create_args *a, const char *key, uint32_t index, const char **out) {
    const std::string *text = nullptr;
    const ModelParam *param = nullptr;
    const int found = value_of(a, key, index, &text, &param);
    if (found == LKM_OK) *out = text->c_str();
    return found;
}

extern "C" int host_path(const lkm_create_args *a, const char *key, uint32_t index, const char **out) {
    const std::string *text = nullptr;
    const ModelParam *param = nullptr;
    const int found = value_of(a, key, index, &text, &param);
    if (found != LKM_OK) return found;
    CreateContext &ctx = context(a);
    fs::path p(*text);
    if (p.is_relative()) p = fs::absolute(fs::path(ctx.config->file).parent_path() / p);
    ctx.scratch.push_back(p.lexically_normal().string());
    *out = ctx.scratch.back().c_str();
    return LKM_OK;
}

extern "C" void host_fail(const lkm_create_args *a, const char *key, const char *message) {
    CreateContext &ctx = context(a);
    record(ctx, key != nullptr ? ctx.spec->find(key) : nullptr, key, message != nullptr ? message : "(no message)");
}

}  // namespace

const char *kind_name(uint32_t kind) {
    switch (kind) {
    case LKM_KIND_LOSS: return "loss";
    case LKM_KIND_DELAY: return "delay";
    case LKM_KIND_BANDWIDTH: return "bandwidth";
    case LKM_KIND_QUEUE: return "queue";
    default: return "?";
    }
}

const void *model_extension(const lkm_model &m, const char *id) {
    if (abi_minor(m) < 2 || !LKM_HAS_FIELD(m, get_extension) || m.get_extension == nullptr) return nullptr;
    return m.get_extension(id);
}

ModelInstance::ModelInstance(LoadedModel loaded, void *state) : loaded_(std::move(loaded)), state_(state) {
    if (loaded_.model == nullptr) return;
    reset_ = static_cast<const lkm_ext_reset *>(model_extension(*loaded_.model, LKM_EXT_RESET));
    bounds_ = static_cast<const lkm_ext_bounds *>(model_extension(*loaded_.model, LKM_EXT_BOUNDS));
    carry_ = static_cast<const lkm_ext_carry *>(model_extension(*loaded_.model, LKM_EXT_CARRY));
}

std::optional<double> ModelInstance::expected_loss() const {
    const lkm_model &m = model();
    if (m.kind != LKM_KIND_LOSS || state_ == nullptr) return std::nullopt;
    double p = -1;
    if (bounds_ != nullptr && bounds_->loss != nullptr) {
        if (bounds_->loss(state_, &p) != 0) return std::nullopt;  // depends on the traffic
    } else if (LKM_HAS_FIELD(m, expected_loss) && m.expected_loss != nullptr) {
        p = m.expected_loss(state_);  // ABI 1.1
    } else {
        return std::nullopt;
    }
    if (!(p >= 0 && p <= 1)) return std::nullopt;  // negative (depends on traffic), or not a probability
    return p;
}

std::optional<Bounds> ModelInstance::delay_bounds() const {
    if (model().kind != LKM_KIND_DELAY || bounds_ == nullptr || bounds_->delay_ns == nullptr || state_ == nullptr) return std::nullopt;
    Bounds b;
    if (bounds_->delay_ns(state_, &b.min, &b.max) != 0 || b.min > b.max) return std::nullopt;
    return b;
}

std::optional<Bounds> ModelInstance::rate_bounds() const {
    if (model().kind != LKM_KIND_BANDWIDTH || bounds_ == nullptr || bounds_->rate_bps == nullptr || state_ == nullptr) return std::nullopt;
    Bounds b;
    if (bounds_->rate_bps(state_, &b.min, &b.max) != 0 || b.min > b.max || b.max == 0) return std::nullopt;
    return b;
}

ModelInstance::~ModelInstance() {
    if (loaded_.model != nullptr && state_ != nullptr) loaded_.model->destroy(state_);
}

lkm_rng instance_rng(uint64_t seed, const std::string &link_name, uint32_t kind) {
    return stream_rng(seed, link_name, static_cast<Stream>(kind));
}

std::vector<std::string> PluginHost::default_search_path() {
    std::vector<std::string> dirs;
    if (const char *env = std::getenv("LINKEM_PLUGIN_PATH")) {
        std::string list = env;
        for (size_t start = 0; start <= list.size();) {
            const size_t end = std::min(list.find(':', start), list.size());
            if (end > start) dirs.push_back(list.substr(start, end - start));
            start = end + 1;
        }
    }
    // An installed executable finds the plugins installed beside it wherever the
    // tree was moved (tools/package.sh packages a build configured for
    // /usr/local under /usr). In the build tree this directory does not exist.
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec && *LINKEM_EXE_RELATIVE_PLUGIN_DIR != '\0') {
        const std::filesystem::path beside = (exe.parent_path() / LINKEM_EXE_RELATIVE_PLUGIN_DIR).lexically_normal();
        if (std::filesystem::is_directory(beside, ec)) dirs.push_back(beside.string());
    }
    for (const char *dir : {LINKEM_BUILD_PLUGIN_DIR, LINKEM_INSTALL_PLUGIN_DIR})
        if (*dir != '\0' && std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
    return dirs;
}

PluginHost::PluginHost(std::vector<std::string> search_path) : search_path_(std::move(search_path)) {}

bool PluginHost::load_file(const std::string &path, LoadedModel *out, std::string *error) {
    void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) {
        *error = fmt::format("{}: cannot load: {}", path, dlerror());
        return false;
    }
    std::shared_ptr<void> owner(handle, [](void *h) { dlclose(h); });
    dlerror();
    const auto *m = static_cast<const lkm_model *>(dlsym(handle, LKM_ENTRY_SYMBOL));
    if (m == nullptr) {
        *error = fmt::format("{}: no symbol \"{}\": not a linkem plugin (build it against plugins/include/linkem/plugin.h)", path,
                             LKM_ENTRY_SYMBOL);
        return false;
    }
    const uint32_t major = m->abi_version >> 16, minor = m->abi_version & 0xFFFF;
    if (major != LKM_ABI_MAJOR) {
        *error = fmt::format("{}: built for plugin ABI {}.{}; this linkem speaks {}.{}: rebuild the plugin against its plugin.h", path,
                             major, minor, LKM_ABI_MAJOR, LKM_ABI_MINOR);
        return false;
    }
    if (minor > LKM_ABI_MINOR) {
        *error = fmt::format("{}: built for plugin ABI {}.{}, newer than this linkem's {}.{}: update linkem", path, major, minor,
                             LKM_ABI_MAJOR, LKM_ABI_MINOR);
        return false;
    }
    if (m->struct_size < kMinModelSize) {
        *error = fmt::format("{}: its lkm_model is {} bytes, smaller than ABI 1.0's {}: a broken or foreign descriptor", path,
                             m->struct_size, kMinModelSize);
        return false;
    }
    if (!valid_model_name(m->name)) {
        *error = fmt::format("{}: invalid model name (1 to 32 of a-z, 0-9, '_')", path);
        return false;
    }
    const std::string who = fmt::format("{}: model \"{}\"", path, m->name);
    if (m->kind < LKM_KIND_LOSS || m->kind > LKM_KIND_QUEUE) {
        *error = fmt::format("{}: unknown kind {} (1 loss, 2 delay, 3 bandwidth, 4 queue)", who, m->kind);
        return false;
    }
    if (m->kind == LKM_KIND_QUEUE && (minor < 3 || !LKM_HAS_FIELD(*m, dequeue))) {
        *error = fmt::format(
            "{}: a queue model needs plugin ABI 1.3 and a descriptor of at least {} bytes (up to dequeue); it says "
            "ABI {}.{} and {} bytes",
            who, offsetof(lkm_model, dequeue) + sizeof(void *), major, minor, m->struct_size);
        return false;
    }
    // A 1.2 or older descriptor (or one too small for them) has no enqueue and dequeue: they count as NULL.
    const bool has_queue = LKM_HAS_FIELD(*m, dequeue);
    const bool has_enqueue = has_queue && m->enqueue != nullptr, has_dequeue = has_queue && m->dequeue != nullptr;
    const bool has[5] = {false, m->loss_burst != nullptr, m->delay_burst != nullptr, m->finish_ns != nullptr, has_enqueue && has_dequeue};
    static const char *const callback[5] = {"", "loss_burst", "delay_burst", "finish_ns", "enqueue and dequeue"};
    if (m->create == nullptr || m->destroy == nullptr) {
        *error = fmt::format("{}: missing {} callback", who, m->create == nullptr ? "create" : "destroy");
        return false;
    }
    for (uint32_t k = LKM_KIND_LOSS; k <= LKM_KIND_QUEUE; ++k) {
        if (k == m->kind && !has[k]) {
            *error = fmt::format("{}: a {} model must set {}", who, kind_name(k), callback[k]);
            return false;
        }
        const bool any = k == LKM_KIND_QUEUE ? has_enqueue || has_dequeue : has[k];
        if (k != m->kind && any) {
            *error = fmt::format("{}: a {} model must leave {} NULL", who, kind_name(m->kind), callback[k]);
            return false;
        }
    }
    if (m->param_count != 0 && m->params == nullptr) {
        *error = fmt::format("{}: param_count is {} but params is NULL", who, m->param_count);
        return false;
    }
    // ABI 1.2's extensions: each big enough for its callbacks, and the one that matters set.
    if (const auto *reset = static_cast<const lkm_ext_reset *>(model_extension(*m, LKM_EXT_RESET))) {
        if (reset->struct_size < kMinResetSize || reset->reset == nullptr) {
            *error = reset->struct_size < kMinResetSize ? fmt::format("{}: its \"{}\" extension is {} bytes, smaller than ABI 1.2's {}",
                                                                      who, LKM_EXT_RESET, reset->struct_size, kMinResetSize)
                                                        : fmt::format("{}: its \"{}\" extension has no reset callback", who, LKM_EXT_RESET);
            return false;
        }
    }
    if (const auto *carry = static_cast<const lkm_ext_carry *>(model_extension(*m, LKM_EXT_CARRY))) {
        if (carry->struct_size < kMinCarrySize || carry->carry == nullptr) {
            *error = carry->struct_size < kMinCarrySize ? fmt::format("{}: its \"{}\" extension is {} bytes, smaller than ABI 1.2's {}",
                                                                      who, LKM_EXT_CARRY, carry->struct_size, kMinCarrySize)
                                                        : fmt::format("{}: its \"{}\" extension has no carry callback", who, LKM_EXT_CARRY);
            return false;
        }
    }
    if (const auto *bounds = static_cast<const lkm_ext_bounds *>(model_extension(*m, LKM_EXT_BOUNDS))) {
        if (bounds->struct_size < kMinBoundsSize) {
            *error = fmt::format("{}: its \"{}\" extension is {} bytes, smaller than ABI 1.2's {}", who, LKM_EXT_BOUNDS,
                                 bounds->struct_size, kMinBoundsSize);
            return false;
        }
        const void *own = m->kind == LKM_KIND_LOSS    ? reinterpret_cast<const void *>(bounds->loss)
                          : m->kind == LKM_KIND_DELAY ? reinterpret_cast<const void *>(bounds->delay_ns)
                                                      : reinterpret_cast<const void *>(bounds->rate_bps);
        if (own == nullptr) {
            *error =
                fmt::format("{}: its \"{}\" extension leaves the {} model's callback ({}) NULL", who, LKM_EXT_BOUNDS, kind_name(m->kind),
                            m->kind == LKM_KIND_LOSS    ? "loss"
                            : m->kind == LKM_KIND_DELAY ? "delay_ns"
                                                        : "rate_bps");
            return false;
        }
    }
    *out = LoadedModel{path, m, std::move(owner)};
    return true;
}

bool PluginHost::open(const std::string &path, LoadedModel *out, std::string *error) const {
    auto it = opened_.find(path);
    if (it == opened_.end()) {
        Outcome o;
        o.ok = load_file(path, &o.loaded, &o.error);
        it = opened_.emplace(path, std::move(o)).first;
    }
    if (!it->second.ok) {
        *error = it->second.error;
        return false;
    }
    *out = it->second.loaded;
    return true;
}

std::string PluginHost::file_name_for(uint32_t kind, const std::string &name) { return fmt::format("lkm_{}_{}.so", kind_name(kind), name); }

std::vector<LoadedModel> PluginHost::discover(std::vector<std::string> *problems) const {
    std::vector<LoadedModel> found;
    std::set<std::pair<uint32_t, std::string>> seen;
    for (const std::string &dir : search_path_) {
        std::map<std::pair<uint32_t, std::string>, std::string> in_this_dir;
        for (const std::string &file : shared_objects_in(dir)) {
            LoadedModel loaded;
            std::string error;
            if (!open(file, &loaded, &error)) {
                problems->push_back(error);
                continue;
            }
            const auto key = std::make_pair(loaded.model->kind, std::string(loaded.model->name));
            if (auto [first, inserted] = in_this_dir.emplace(key, file); !inserted) {
                problems->push_back(
                    fmt::format("{}: duplicate {} model \"{}\" (also in {})", file, kind_name(key.first), key.second, first->second));
                continue;
            }
            if (seen.insert(key).second) found.push_back(std::move(loaded));
        }
    }
    return found;
}

PluginHost::Outcome PluginHost::resolve(const std::string &name, uint32_t kind) const {
    Outcome result;
    std::vector<std::string> problems;
    for (const std::string &dir : search_path_) {
        std::vector<std::string> holders;  // the files here that hold this very model
        for (const std::string &file : {file_name_for(kind, name), name + ".so"}) {
            const fs::path path = fs::path(dir) / file;
            std::error_code ec;
            if (!fs::is_regular_file(path, ec)) continue;
            LoadedModel loaded;
            std::string error;
            if (!open(path.string(), &loaded, &error)) {
                problems.push_back(error);
                continue;
            }
            if (loaded.model->kind != kind || name != loaded.model->name) {
                problems.push_back(fmt::format("{}: holds {} model \"{}\", not {} model \"{}\"", path.string(),
                                               kind_name(loaded.model->kind), loaded.model->name, kind_name(kind), name));
                continue;
            }
            if (holders.empty()) result.loaded = loaded;
            holders.push_back(path.string());
        }
        if (holders.size() > 1) {
            result.error = fmt::format("{}: duplicate {} model \"{}\" (also in {})", holders[1], kind_name(kind), name, holders[0]);
            return result;
        }
        if (!holders.empty()) {
            result.ok = true;
            return result;
        }
    }
    // Not found: the models of this kind that the file names promise, for the suggestion (nothing opened).
    std::vector<std::string> same_kind;
    const std::string prefix = fmt::format("lkm_{}_", kind_name(kind));
    for (const std::string &dir : search_path_)
        for (const std::string &file : shared_objects_in(dir)) {
            const std::string base = fs::path(file).filename().string();
            if (base.size() > prefix.size() + 3 && base.compare(0, prefix.size(), prefix) == 0) {
                std::string model = base.substr(prefix.size(), base.size() - prefix.size() - 3);
                if (std::find(same_kind.begin(), same_kind.end(), model) == same_kind.end()) same_kind.push_back(std::move(model));
            }
        }
    const auto guess = nearest_word(name, same_kind);
    result.error = fmt::format("no {} model named \"{}\"{} (available: {}; searched for {} and {}.so in: {})", kind_name(kind), name,
                               guess ? fmt::format("; did you mean \"{}\"?", *guess) : "", same_kind.empty() ? "none" : join(same_kind),
                               file_name_for(kind, name), name, search_path_.empty() ? "nothing" : join(search_path_, ":"));
    if (!problems.empty()) result.error += fmt::format("; refused on the way: {}", join(problems, "; "));
    return result;
}

bool PluginHost::find(const std::string &name, uint32_t kind, LoadedModel *out, std::string *error) const {
    const auto key = std::make_pair(kind, name);
    auto it = found_.find(key);
    if (it == found_.end()) it = found_.emplace(key, resolve(name, kind)).first;
    if (!it->second.ok) {
        *error = it->second.error;
        return false;
    }
    *out = it->second.loaded;
    return true;
}

std::unique_ptr<ModelInstance> PluginHost::instantiate(const Config &config, const ModelSpec &spec, uint32_t kind,
                                                       const std::string &link_name, uint64_t seed, std::vector<ConfigError> *errors,
                                                       const ModelContext &link_context) const {
    LoadedModel loaded;
    std::string error;
    const bool by_file = names_a_file(spec.plugin);
    bool ok;
    if (by_file) {
        // Absolute, so that dlopen() takes it as a file, not a name to look up.
        fs::path p(spec.plugin);
        if (p.is_relative()) p = fs::absolute(fs::path(config.file).parent_path() / p);
        ok = open(p.lexically_normal().string(), &loaded, &error);
        if (ok && loaded.model->kind != kind) {
            error = fmt::format("{}: model \"{}\" is a {} model, not a {} model", loaded.path, loaded.model->name,
                                kind_name(loaded.model->kind), kind_name(kind));
            ok = false;
        }
    } else {
        ok = find(spec.plugin, kind, &loaded, &error);
    }
    const std::string plugin_path = spec.shorthand ? spec.path : spec.path + ".plugin";
    if (!ok) {
        errors->push_back({config.file, spec.pos, plugin_path, error});
        return nullptr;
    }

    CreateContext ctx{&config, &spec, errors, {}, {}, errors->size()};
    lkm_create_args args{};
    args.struct_size = sizeof args;
    args.abi_version = LKM_ABI_VERSION;
    args.link_name = link_name.c_str();
    args.rng = instance_rng(seed, link_name, kind);
    args.count = host_count;
    args.number = host_number;
    args.duration_ns = host_duration;
    args.rate_bps = host_rate;
    args.size_bytes = host_size;
    args.probability = host_probability;
    args.string = host_string;
    args.path = host_path;
    args.fail = host_fail;
    args.host_private = &ctx;
    args.link_rate_bps = kind == LKM_KIND_BANDWIDTH ? 0 : link_context.link_rate_bps;
    args.overhead_bytes = link_context.overhead_bytes;
    args.max_burst = link_context.max_burst;

    void *state = nullptr;
    const int rc = loaded.model->create(&args, &state);
    auto instance = std::make_unique<ModelInstance>(loaded, rc == 0 ? state : nullptr);
    if (rc != 0 && errors->size() == ctx.errors_before)
        record(ctx, nullptr, nullptr, fmt::format("model \"{}\" refused its parameters without saying why", loaded.model->name));
    if (rc == 0 && state == nullptr)  // its burst function would be handed NULL: refused now, not at the first burst
        record(ctx, nullptr, nullptr,
               fmt::format("{}: model \"{}\": create() returned 0 but left its state NULL (a plugin bug: set *state, or return -1)",
                           loaded.path, loaded.model->name));
    // Unread parameters are unknown only when create() went through: a model
    // that gave up early never asked for the rest.
    std::vector<std::string> known;
    for (uint32_t i = 0; i < loaded.model->param_count; ++i) known.push_back(loaded.model->params[i].name);
    for (const ModelParam &p : rc == 0 ? spec.params : std::vector<ModelParam>{})
        if (!ctx.read.count(p.key)) {
            const auto guess = nearest_word(p.key, known);
            record(ctx, &p, p.key.c_str(),
                   fmt::format("unknown parameter \"{}\" for {} model \"{}\"{} (known: {})", p.key, kind_name(kind), loaded.model->name,
                               guess ? fmt::format("; did you mean \"{}\"?", *guess) : "", known.empty() ? "none" : join(known)));
        }
    if (errors->size() != ctx.errors_before) return nullptr;
    return instance;
}

}  // namespace linkem
