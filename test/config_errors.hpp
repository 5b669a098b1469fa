// Shared by the unit tests of the loader's refusals: a configuration text
// (loaded as "t.yaml") must be refused with exactly one positioned error.
#pragma once

#include "linkem/config.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace linkem::test {

inline void require_one_error(const std::string &text, int line, int column, const std::string &path, const std::string &message_part) {
    LoadResult r = load_config_text(text, "t.yaml");
    for (const auto &e : r.errors) UNSCOPED_INFO(e.to_string());
    REQUIRE_FALSE(r.config);
    REQUIRE(r.errors.size() == 1);
    CHECK(r.errors[0].pos.line == line);
    CHECK(r.errors[0].pos.column == column);
    CHECK(r.errors[0].path == path);
    CHECK_THAT(r.errors[0].message, Catch::Contains(message_part));
}

}  // namespace linkem::test
