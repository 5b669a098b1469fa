// linkemctl: steer and watch a running linkem (app/ctl.hpp, linkemctl(1)).
#include "ctl.hpp"

#include <iostream>
#include <string>
#include <vector>

int main(int argc, char **argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    return linkem::run_linkemctl(args, std::cout, std::cerr);
}
