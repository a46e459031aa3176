// The bench executable: the suite's main (main_run.hpp) with the quick sweep by default.
#include "bench/main_run.hpp"

int main(int argc, char** argv) { return p4s::bench::run_main(argc, argv, p4s::bench::MainConfig{}); }
