// libFuzzer target: load_config_text() and to_yaml() on arbitrary bytes must
// never crash, hang or leak, and a loaded configuration must print to a
// fixpoint. Built and run by tools/fuzz.sh (clang; the meson test fuzz-smoke
// runs it for a few seconds).
// (tools/fuzz.sh reads the directive lines whole: keep clang-format off them)
// clang-format off
// fuzz-sources: core/config_load.cpp core/config_print.cpp core/units.cpp core/suggest.cpp core/packet_fields.cpp core/device_iface.cpp core/netem_translate.cpp core/instance.cpp
// fuzz-libs: yaml-cpp fmt
// fuzz-args: -max_len=4096
// clang-format on
#include "linkem/config.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string text(reinterpret_cast<const char *>(data), size);
    const linkem::LoadResult r = linkem::load_config_text(text, "fuzz.yaml");
    if (r.config) {
        const std::string printed = linkem::to_yaml(*r.config);
        const linkem::LoadResult again = linkem::load_config_text(printed, "printed.yaml");
        if (!again.config || linkem::to_yaml(*again.config) != printed) std::abort();
    } else if (r.errors.empty()) {
        std::abort();  // a refusal always says why
    }
    return 0;
}
