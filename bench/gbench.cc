// The one C++ file of the benchmark suite: bench/gbench.h's C interface over Google Benchmark.
// Nothing here knows about twinpix; the C side owns every measurement decision.
#include "bench/gbench.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <set>
#include <string>
#include <vector>

namespace {

benchmark::State &st(tp_gbench_state *s) { return *static_cast<benchmark::State *>(s->impl); }

benchmark::TimeUnit to_unit(tp_gbench_unit u)
{
    switch (u) {
    case TP_GBENCH_UNIT_MICROSECOND:
        return benchmark::kMicrosecond;
    case TP_GBENCH_UNIT_NANOSECOND:
        return benchmark::kNanosecond;
    case TP_GBENCH_UNIT_SECOND:
        return benchmark::kSecond;
    case TP_GBENCH_UNIT_MILLISECOND:
    default:
        return benchmark::kMillisecond;
    }
}

// Google Benchmark's console table would interleave with the suite's own progress lines: by default the
// display reporter says nothing, and only the JSON file reporter writes.
class QuietReporter : public benchmark::BenchmarkReporter {
  public:
    bool ReportContext(const Context &) override { return true; }
    void ReportRuns(const std::vector<Run> &) override {}
};

// Context keys already given: Google Benchmark warns on a duplicate, and a process may run several suites.
std::set<std::string> &context_keys()
{
    static std::set<std::string> keys;
    return keys;
}

void copy_error(char *err, int err_len, const std::string &msg)
{
    if (err && err_len > 0)
        std::snprintf(err, (size_t)err_len, "%s", msg.c_str());
}

} // namespace

extern "C" {

int tp_gbench_register(const char *name, const tp_gbench_def *def)
{
    if (!name || !*name || !def || !def->run)
        return -1;
    const tp_gbench_def d = *def;
    // The lambda keeps its own copy of the definition: the pointer given to the callback stays valid for as
    // long as the benchmark is registered.
    benchmark::internal::Benchmark *b = benchmark::RegisterBenchmark(name, [d](benchmark::State &state) {
        tp_gbench_state s{&state};
        if (d.run(&d, &s) != 0 && !state.error_occurred())
            state.SkipWithError("the benchmark's run function failed");
    });
    b->Unit(to_unit(d.time_unit));
    if (d.flags & TP_GBENCH_FLAG_MEASURE_PROCESS_CPU_TIME)
        b->MeasureProcessCPUTime();
    if (d.flags & TP_GBENCH_FLAG_USE_REAL_TIME)
        b->UseRealTime();
    if (d.flags & TP_GBENCH_FLAG_USE_MANUAL_TIME)
        b->UseManualTime();
    if (d.iterations > 0)
        b->Iterations(d.iterations);
    else if (d.minimum_duration_s > 0)
        b->MinTime(d.minimum_duration_s);
    if (d.repetitions > 1)
        b->Repetitions(d.repetitions);
    return 0;
}

void tp_gbench_clear(void) { benchmark::ClearRegisteredBenchmarks(); }

bool tp_gbench_keep_running(tp_gbench_state *s) { return st(s).KeepRunning(); }

int64_t tp_gbench_iterations(const tp_gbench_state *s)
{
    return (int64_t) static_cast<const benchmark::State *>(s->impl)->iterations();
}

void tp_gbench_set_iteration_time(tp_gbench_state *s, double seconds) { st(s).SetIterationTime(seconds); }
void tp_gbench_pause_timing(tp_gbench_state *s) { st(s).PauseTiming(); }
void tp_gbench_resume_timing(tp_gbench_state *s) { st(s).ResumeTiming(); }
void tp_gbench_set_items_processed(tp_gbench_state *s, int64_t items) { st(s).SetItemsProcessed(items); }
void tp_gbench_set_bytes_processed(tp_gbench_state *s, int64_t bytes) { st(s).SetBytesProcessed(bytes); }

void tp_gbench_set_counter(tp_gbench_state *s, const char *name, double value, unsigned flags)
{
    int f = benchmark::Counter::kDefaults;
    if (flags & TP_GBENCH_COUNTER_RATE)
        f |= benchmark::Counter::kIsRate;
    if (flags & TP_GBENCH_COUNTER_AVG_ITERATIONS)
        f |= benchmark::Counter::kAvgIterations;
    st(s).counters[name] = benchmark::Counter(value, static_cast<benchmark::Counter::Flags>(f));
}

void tp_gbench_set_label(tp_gbench_state *s, const char *label) { st(s).SetLabel(label ? label : ""); }

void tp_gbench_skip(tp_gbench_state *s, const char *message)
{
    st(s).SkipWithError(message && *message ? message : "skipped");
}

void tp_gbench_add_context(const char *key, const char *value)
{
    if (!key || !value || !context_keys().insert(key).second)
        return;
    benchmark::AddCustomContext(key, value);
}

int tp_gbench_run(int argc, char **argv, const tp_gbench_run_options *opt, char *err, int err_len)
{
    try {
        std::vector<std::string> args;
        args.push_back(argc > 0 && argv[0] ? argv[0] : "twinpix-bench");
        for (int i = 1; i < argc; i++) {
            // --help would print Google Benchmark's usage and exit the process: refuse it here.
            if (std::strncmp(argv[i], "--benchmark_", 12) != 0) {
                copy_error(err, err_len, std::string("unknown Google Benchmark argument '") + argv[i] + "'");
                return -1;
            }
            args.push_back(argv[i]);
        }
        if (opt && opt->json_path) {
            // Google Benchmark exits the process when it cannot open its output file: check first.
            std::ofstream probe(opt->json_path);
            if (!probe.is_open()) {
                copy_error(err, err_len, std::string("cannot write ") + opt->json_path);
                return -1;
            }
            args.push_back(std::string("--benchmark_out=") + opt->json_path);
            args.push_back("--benchmark_out_format=json");
        }
        std::vector<char *> cargv;
        for (auto &a : args)
            cargv.push_back(&a[0]);
        cargv.push_back(nullptr);
        int n = (int)args.size();
        benchmark::Initialize(&n, cargv.data());
        if (n > 1) {
            copy_error(err, err_len, std::string("unknown Google Benchmark argument '") + cargv[1] + "'");
            return -1;
        }
        QuietReporter quiet;
        benchmark::ConsoleReporter console(benchmark::ConsoleReporter::OO_None);
        console.SetOutputStream(&std::cerr);
        console.SetErrorStream(&std::cerr);
        benchmark::BenchmarkReporter *display =
            (opt && opt->console) ? static_cast<benchmark::BenchmarkReporter *>(&console) : &quiet;
        size_t matched = benchmark::RunSpecifiedBenchmarks(display);
        return (int)matched;
    } catch (const std::exception &e) {
        copy_error(err, err_len, std::string("Google Benchmark failed: ") + e.what());
        return -1;
    } catch (...) {
        copy_error(err, err_len, "Google Benchmark failed");
        return -1;
    }
}

} // extern "C"
