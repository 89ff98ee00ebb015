#include "util/clock.hpp"

#include <chrono>
#include <thread>

namespace lethe {

TimeMs SystemClock::now_ms() const {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void SystemSleeper::sleep_ms(TimeMs ms) {
    if (ms > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    }
}

} // namespace lethe
