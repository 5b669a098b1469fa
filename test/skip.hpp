// LINKEM_SKIP("reason"): end the current test case as skipped, with a reason
// that is printed. Use it only when something the test needs is absent (a
// device, privileges); the summary counts the case as skipped, never passed.
#pragma once

#include <string>

namespace linkem::test {
void mark_skipped(const std::string &reason);
}

#define LINKEM_SKIP(reason)                   \
    do {                                      \
        ::linkem::test::mark_skipped(reason); \
        return;                               \
    } while (false)
