// Reference values for linkem's CoDel control law (test/test_queue_disciplines.cpp),
// from ns-3's own CoDelQueueDisc::NewtonStep and ControlLaw (private static
// members, reached as ns-3's unit tests reach them: through a class of the
// name ns-3's header befriends). Built against Debian's libns3-dev (3.37):
//
//   g++ -std=c++17 tools/ns3/codel_control_law.cc -o codel_control_law \
//       -lns3-traffic-control -lns3-network -lns3-core && ./codel_control_law
//
// Prints the reciprocal square roots a dropping state walks through (count 1
// with 0xffff, then one Newton step per count), the control law's spacing for
// a 100 ms interval in ns-3's 1024 ns units, and a grid of single Newton steps.
#include <ns3/codel-queue-disc.h>

#include <cstdio>

class CoDelQueueDiscNewtonStepTest {
  public:
    static uint16_t step(uint16_t r, uint32_t c) { return ns3::CoDelQueueDisc::NewtonStep(r, c); }
    static uint32_t law(uint32_t t, uint32_t i, uint32_t r) { return ns3::CoDelQueueDisc::ControlLaw(t, i, r); }
};

int main() {
    std::printf("# count, rec_inv_sqrt, spacing of 100ms in 1024 ns units\n");
    uint16_t r = 0xffff;
    for (uint32_t c = 1; c <= 64; ++c) {
        if (c > 1) r = CoDelQueueDiscNewtonStepTest::step(r, c);
        std::printf("%u,%u,%u\n", c, r, CoDelQueueDiscNewtonStepTest::law(0, 100000000u >> 10, r));
    }
    std::printf("# rec_inv_sqrt, count, one Newton step\n");
    for (uint16_t rec : {0xffff, 0xc000, 0x8000, 0x5a82, 0x4000, 0x2000, 0x1000})
        for (uint32_t c : {1u, 2u, 3u, 4u, 10u, 100u, 1000u}) std::printf("%u,%u,%u\n", rec, c, CoDelQueueDiscNewtonStepTest::step(rec, c));
}
