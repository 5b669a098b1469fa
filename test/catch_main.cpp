// Shared Catch2 runner for every linkem test binary.
//
// Besides Catch2's own report, it prints one line per test case,
//   [linkem-case] PASS|FAIL|SKIP <name>
// which tools/test_summary.py counts across binaries. A test case that calls
// LINKEM_SKIP("why") is reported as SKIP (never as PASS), as long as it failed
// no assertion before that.
#define CATCH_CONFIG_RUNNER
#include "skip.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <set>
#include <string>

namespace linkem::test {

static std::set<std::string> &skipped_cases() {
    static std::set<std::string> cases;
    return cases;
}

void mark_skipped(const std::string &reason) {
    const std::string name = Catch::getResultCapture().getCurrentTestName();
    skipped_cases().insert(name);
    std::printf("[linkem-skip] %s: %s\n", name.c_str(), reason.c_str());
}

struct CaseVerdictListener : Catch::TestEventListenerBase {
    using TestEventListenerBase::TestEventListenerBase;

    void testCaseEnded(const Catch::TestCaseStats &stats) override {
        const std::string &name = stats.testInfo.name;
        const bool failed = stats.totals.assertions.failed > 0 || stats.totals.testCases.failed > 0;
        const char *verdict = failed ? "FAIL" : skipped_cases().count(name) ? "SKIP" : "PASS";
        std::printf("[linkem-case] %s %s\n", verdict, name.c_str());
        std::fflush(stdout);
    }
};

}  // namespace linkem::test

// The macro pastes its argument into an identifier: register an unqualified name.
using CaseVerdictListener = linkem::test::CaseVerdictListener;
CATCH_REGISTER_LISTENER(CaseVerdictListener)

int main(int argc, char **argv) { return Catch::Session().run(argc, argv); }
