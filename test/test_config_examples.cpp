// [unit] Every file in config/ loads, and prints back to a fixpoint, so the
// examples cannot go stale.
#include "linkem/config.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

using namespace linkem;
namespace fs = std::filesystem;

TEST_CASE("every example in config/ is a valid configuration", "[unit][config][examples]") {
    const char *dir = std::getenv("LINKEM_CONFIG_DIR");
    REQUIRE(dir != nullptr);  // set by meson test
    size_t checked = 0;
    for (const auto &entry : fs::directory_iterator(dir)) {
        if (entry.path().extension() != ".yaml") continue;
        const std::string path = entry.path().string();
        INFO(path);
        const LoadResult r = load_config_file(path);
        for (const auto &e : r.errors) UNSCOPED_INFO(e.to_string());
        REQUIRE(r.config);
        const std::string printed = to_yaml(*r.config);
        const LoadResult again = load_config_text(printed, path + " (printed)");
        REQUIRE(again.config);
        CHECK(to_yaml(*again.config) == printed);
        ++checked;
    }
    CHECK(checked >= 3);
}
