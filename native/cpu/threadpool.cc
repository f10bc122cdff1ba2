#include "posapl/threadpool.h"

#include "posapl/cpu_features.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace posapl {

namespace {

thread_local bool t_inside_pool = false;

int configured_threads() {
  if (const char* env = std::getenv("POSAPL_THREADS")) {
    int n = std::atoi(env);
    if (n >= 1 && n <= kMaxThreads) return n;
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : static_cast<int>(hc);
}

// Waking a sleeping thread costs tens of microseconds here (a futex wake, and in a VM an
// interrupt to an idle virtual CPU; measured: a 38k-float add took 76 us, 4 us without it):
// more than many whole kernels. So after a job the workers spin for a while before sleeping,
// and the caller spins while it waits for them: consecutive native calls, a few microseconds of
// JavaScript apart, then find everyone awake. The spin yields the core between checks, and
// after kSpinMicros without work a worker sleeps on the condition variable, leaving the cores
// to other threads (the image decoders, say).
constexpr int64_t kSpinMicros = 200;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spins until done() or kSpinMicros pass; returns done()'s last value.
template <class Done>
bool spin_until(Done done) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::microseconds(kSpinMicros);
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return true;
      cpu_relax();
    }
    if (std::chrono::steady_clock::now() >= give_up) return done();
    // Lets a runnable thread have this core: with more threads than cores, or other work
    // on them, a spinning thread would otherwise delay the very work it waits for.
    std::this_thread::yield();
  }
}

class Pool {
 public:
  explicit Pool(int threads) : threads_(threads) {
    for (int i = 1; i < threads_; ++i) workers_.emplace_back([this, i] { worker(i); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    for (auto& w : workers_) w.join();
  }
  int threads() const { return threads_; }

  void run(int64_t n, int parts, const std::function<void(int64_t, int64_t)>& fn) {
    // One job at a time: calls from several JS threads (worker_threads) queue here.
    std::lock_guard<std::mutex> job_lock(job_mu_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = &fn;
      n_ = n;
      parts_ = parts;
      pending_.store(parts - 1, std::memory_order_relaxed);
      // Publishes the job: a worker that sees the new generation sees the fields above.
      generation_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    t_inside_pool = true;
    run_part(0);
    t_inside_pool = false;
    if (!spin_until([this] { return pending_.load(std::memory_order_acquire) == 0; })) {
      std::unique_lock<std::mutex> lock(mu_);
      done_cv_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
    }
    fn_ = nullptr;
  }

 private:
  void run_part(int part) {
    int64_t begin = n_ * part / parts_;
    int64_t end = n_ * (part + 1) / parts_;
    if (begin < end) (*fn_)(begin, end);
    clear_simd_state();
  }

  void worker(int index) {
    t_inside_pool = true;
    uint64_t seen = 0;
    for (;;) {
      const auto fresh = [&] { return generation_.load(std::memory_order_acquire) != seen; };
      if (!spin_until(fresh)) {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, fresh);
      }
      bool take;
      {
        // The generation and its job's fields are read together: a later job cannot slip in
        // between and be run twice.
        std::lock_guard<std::mutex> lock(mu_);
        if (stop_) return;
        seen = generation_.load(std::memory_order_relaxed);
        take = index < parts_;
      }
      if (!take) continue;
      run_part(index);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        // The caller may be asleep: wake it under the lock so the wake-up cannot be lost.
        std::lock_guard<std::mutex> lock(mu_);
        done_cv_.notify_one();
      }
    }
  }

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex job_mu_, mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(int64_t, int64_t)>* fn_ = nullptr;
  int64_t n_ = 0;
  int parts_ = 0;
  std::atomic<int> pending_{0};
  std::atomic<uint64_t> generation_{0};
  bool stop_ = false;
};

// The pool in use. A call holds its own reference for the whole job, so set_num_threads can swap
// in a new pool while another JS thread (worker_threads) still runs on the old one: the old one
// is joined when its last job returns. The holder itself is leaked on purpose: joining threads
// from a static destructor at process exit can deadlock.
std::shared_ptr<Pool>& current_pool() {
  static auto* p = new std::shared_ptr<Pool>(std::make_shared<Pool>(configured_threads()));
  return *p;
}

std::mutex& pool_mu() {
  static auto* mu = new std::mutex;
  return *mu;
}

std::shared_ptr<Pool> pool() {
  std::lock_guard<std::mutex> lock(pool_mu());
  return current_pool();
}

}  // namespace

int num_threads() { return pool()->threads(); }

int set_num_threads(int threads) {
  threads = std::clamp(threads, 1, kMaxThreads);
  std::shared_ptr<Pool> old;
  {
    std::lock_guard<std::mutex> lock(pool_mu());
    if (current_pool()->threads() == threads) return threads;
    old = current_pool();
    current_pool() = std::make_shared<Pool>(threads);
  }
  return threads;  // `old` joins its workers here unless a job still holds it
}

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  if (t_inside_pool) {
    fn(0, n);
    return;
  }
  std::shared_ptr<Pool> p = pool();
  int parts = static_cast<int>(std::min<int64_t>(p->threads(), (n + grain - 1) / grain));
  if (parts <= 1) {
    fn(0, n);
    clear_simd_state();
    return;
  }
  p->run(n, parts, fn);
}

}  // namespace posapl
