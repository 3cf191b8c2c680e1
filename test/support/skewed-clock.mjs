// Loaded with `--import` into a worker process: this machine's clock runs
// POSTROOM_TEST_CLOCK_SKEW_MS milliseconds off (positive: ahead), as a server without NTP would.
const skew = Number(process.env.POSTROOM_TEST_CLOCK_SKEW_MS ?? 0);
const realNow = Date.now;
Date.now = () => realNow() + skew;
