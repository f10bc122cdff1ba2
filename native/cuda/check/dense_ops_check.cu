// A standalone first check of the CUDA dense ops (gemm, bias_grad, elementwise, adamw and the
// three adapters) against the CPU functions of the same name, on fresh random inputs, for a GPU
// host before the Node-level gpu-check exists. Outputs are poisoned with NaN first, so an
// element left unwritten fails. Built by build.sh in this folder (not part of the addon).
// Prints one line per case and exits 1 when any case fails.
//
// Tolerances are norm-wise relative errors: fp32 1e-5, tf32 1e-3; AdamW must match bit for bit.
// Unless POSAPL_CHECK_WITH_CUDA_ATTENTION is defined, the SA-adapter's attention runs through
// a test-only shim (copy to the host, CPU attention, copy back) so that the adapter's own
// sequence is checked without the attention kernels.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "cuda_common.cuh"
#include "cuda_ops.h"
#include "posapl/backend.h"

namespace {

using Vec = std::vector<float>;
int failures = 0;
std::mt19937 rng(1234);

Vec random_vec(int64_t n, float scale = 1.0f) {
  std::normal_distribution<float> d(0.0f, scale);
  Vec v(static_cast<size_t>(n));
  for (auto& x : v) x = d(rng);
  return v;
}

// A device copy of a host vector (or n floats of NaN), freed at scope end.
struct Dev {
  float* p = nullptr;
  int64_t n = 0;
  explicit Dev(const Vec& v) : n(static_cast<int64_t>(v.size())) {
    POSAPL_CUDA_CHECK(cudaMalloc(&p, (n > 0 ? n : 1) * sizeof(float)));
    if (n > 0) POSAPL_CUDA_CHECK(cudaMemcpy(p, v.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    // The ops run on a non-blocking stream, which does not wait for the legacy stream's copy.
    POSAPL_CUDA_CHECK(cudaDeviceSynchronize());
  }
  static Dev poisoned(int64_t n) {
    Dev d(Vec{});
    cudaFree(d.p);
    d.n = n;
    POSAPL_CUDA_CHECK(cudaMalloc(&d.p, (n > 0 ? n : 1) * sizeof(float)));
    POSAPL_CUDA_CHECK(cudaMemset(d.p, 0xFF, (n > 0 ? n : 1) * sizeof(float)));  // all-ones bits: NaN
    POSAPL_CUDA_CHECK(cudaDeviceSynchronize());
    return d;
  }
  Dev(Dev&& o) noexcept : p(o.p), n(o.n) { o.p = nullptr; }
  Dev(const Dev&) = delete;
  ~Dev() {
    if (p != nullptr) cudaFree(p);
  }
  Vec get() const {
    POSAPL_CUDA_CHECK(cudaStreamSynchronize(posapl::cuda::stream()));
    Vec v(static_cast<size_t>(n));
    if (n > 0) POSAPL_CUDA_CHECK(cudaMemcpy(v.data(), p, n * sizeof(float), cudaMemcpyDeviceToHost));
    return v;
  }
};

double rel_error(const Vec& got, const Vec& want) {
  double diff = 0.0, norm = 0.0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (!std::isfinite(got[i])) return INFINITY;
    diff += (static_cast<double>(got[i]) - want[i]) * (static_cast<double>(got[i]) - want[i]);
    norm += static_cast<double>(want[i]) * want[i];
  }
  return std::sqrt(diff) / std::max(std::sqrt(norm), 1e-30);
}

void expect_close(const std::string& name, const Vec& got, const Vec& want, double tol) {
  const double e = got.size() == want.size() ? rel_error(got, want) : INFINITY;
  const bool ok = e <= tol;
  if (!ok) ++failures;
  std::printf("%s %-58s rel %.3g (tol %.0e)\n", ok ? "ok  " : "FAIL", name.c_str(), e, tol);
}

void expect_equal_bits(const std::string& name, const Vec& got, const Vec& want) {
  size_t bad = got.size() == want.size() ? 0 : 1;
  for (size_t i = 0; bad == 0 && i < want.size(); ++i)
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) bad = i + 1;
  if (bad != 0) ++failures;
  std::printf("%s %-58s %s\n", bad == 0 ? "ok  " : "FAIL", name.c_str(),
              bad == 0 ? "bit-exact" : ("first difference at " + std::to_string(bad - 1)).c_str());
}

const char* act_name(posapl::Activation a) {
  return a == posapl::Activation::Relu ? "relu" : a == posapl::Activation::Gelu ? "gelu" : "none";
}

void check_gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float beta, bool with_bias, posapl::Activation act,
                bool with_pre, int pad, double tol) {
  const int64_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
  const Vec A = random_vec((ta ? K : M) * lda), B = random_vec((tb ? N : K) * ldb), bias = random_vec(N);
  Vec C = random_vec(M * ldc), pre(static_cast<size_t>(M * ldc), 0.0f);
  Dev dA(A), dB(B), dbias(bias);
  // beta 0: C must not be read, so the device C starts as NaN.
  Dev dC = beta != 0.0f ? Dev(C) : Dev::poisoned(M * ldc);
  Dev dpre = Dev::poisoned(M * ldc);
  posapl::cuda::gemm(ta, tb, M, N, K, 0.75f, dA.p, lda, dB.p, ldb, beta, dC.p, ldc, with_bias ? dbias.p : nullptr, act,
                     with_pre ? dpre.p : nullptr);
  posapl::gemm_reference(ta, tb, M, N, K, 0.75f, A.data(), lda, B.data(), ldb, beta, C.data(), ldc,
                         with_bias ? bias.data() : nullptr, act, with_pre ? pre.data() : nullptr);
  // Only the (M,N) part is the contract; padding columns are compared where they were written.
  Vec got = dC.get(), got_pre = dpre.get();
  Vec g, w, gp, wp;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      g.push_back(got[m * ldc + n]);
      w.push_back(C[m * ldc + n]);
      gp.push_back(got_pre[m * ldc + n]);
      wp.push_back(pre[m * ldc + n]);
    }
  char name[160];
  std::snprintf(name, sizeof name, "gemm %c%c %ldx%ldx%ld beta %g bias %d %s pre %d pad %d", ta ? 't' : 'n',
                tb ? 't' : 'n', static_cast<long>(M), static_cast<long>(N), static_cast<long>(K), beta, with_bias,
                act_name(act), with_pre, pad);
  expect_close(name, g, w, tol);
  if (with_pre) expect_close(std::string(name) + " (pre)", gp, wp, tol);
}

void check_bias_grad(int64_t M, int64_t N, bool accumulate) {
  const Vec dY = random_vec(M * N);
  Vec db = random_vec(N);
  Dev ddY(dY);
  Dev ddb = accumulate ? Dev(db) : Dev::poisoned(N);
  posapl::cuda::bias_grad(ddb.p, ddY.p, M, N, accumulate);
  // The reference sums in double: the CPU's float sum over 300,000 rows is itself off by ~1e-5.
  for (int64_t n = 0; n < N; ++n) {
    double sum = accumulate ? db[n] : 0.0;
    for (int64_t m = 0; m < M; ++m) sum += dY[m * N + n];
    db[n] = static_cast<float>(sum);
  }
  expect_close("bias_grad " + std::to_string(M) + "x" + std::to_string(N) + (accumulate ? " +=" : " ="), ddb.get(),
               db, 1e-5);
}

void check_elementwise() {
  const int64_t n = 300001;
  const Vec dy = random_vec(n), pre = random_vec(n, 2.0f), x = random_vec(n);
  for (auto act : {posapl::Activation::None, posapl::Activation::Relu, posapl::Activation::Gelu}) {
    Vec want(n);
    posapl::activation_backward(act, want.data(), dy.data(), pre.data(), n);
    Dev ddy(dy), dpre(pre);
    Dev ddx = Dev::poisoned(n);
    posapl::cuda::activation_backward(act, ddx.p, ddy.p, dpre.p, n);
    expect_close(std::string("activation_backward ") + act_name(act), ddx.get(), want, 1e-5);
    posapl::cuda::activation_backward(act, ddy.p, ddy.p, dpre.p, n);  // dx = dy in place
    expect_close(std::string("activation_backward in place ") + act_name(act), ddy.get(), want, 1e-5);
  }
  Vec y = random_vec(n);
  Dev dyv(y), dx(x);
  posapl::cuda::axpy(dyv.p, dx.p, -0.3f, n);
  posapl::axpy(y.data(), x.data(), -0.3f, n);
  expect_close("axpy", dyv.get(), y, 1e-6);
  Vec sum(n);
  posapl::add(sum.data(), y.data(), x.data(), n);
  Dev dout = Dev::poisoned(n);
  posapl::cuda::add(dout.p, dyv.p, dx.p, n);
  expect_close("add", dout.get(), sum, 1e-6);
}

void check_adamw() {
  const std::vector<int64_t> sizes = {0, 1, 1000, 33, 70001, 5};
  const int64_t count = static_cast<int64_t>(sizes.size());
  std::vector<Vec> p, m, v, g;
  for (int64_t s : sizes) {
    p.push_back(random_vec(s));
    m.push_back(random_vec(s, 0.1f));
    Vec vv = random_vec(s, 0.01f);
    for (auto& x : vv) x = x * x;
    v.push_back(vv);
    g.push_back(random_vec(s));
  }
  std::vector<Dev> dp, dm, dv, dg;
  for (int64_t k = 0; k < count; ++k) {
    dp.emplace_back(p[k]);
    dm.emplace_back(m[k]);
    dv.emplace_back(v[k]);
    dg.emplace_back(g[k]);
  }
  std::vector<float*> hp, hm, hv, dpp, dmp, dvp;
  std::vector<const float*> hg, dgp;
  for (int64_t k = 0; k < count; ++k) {
    hp.push_back(p[k].data()), hm.push_back(m[k].data()), hv.push_back(v[k].data()), hg.push_back(g[k].data());
    dpp.push_back(dp[k].p), dmp.push_back(dm[k].p), dvp.push_back(dv[k].p), dgp.push_back(dg[k].p);
  }
  for (int step = 1; step <= 3; ++step) {
    posapl::AdamWOptions o{1e-3, 0.9, 0.999, 1e-8, step == 2 ? 0.0 : 0.2, step};
    posapl::adamw_update(hp.data(), hm.data(), hv.data(), hg.data(), sizes.data(), count, o);
    // Step 3 drops the first tensors, so the device table must be uploaded again.
    const int64_t first = step == 3 ? 2 : 0;
    if (step == 3) {
      // The CPU did all tensors at step 3; the device does them in two calls (same result).
      posapl::cuda::adamw_update(dpp.data(), dmp.data(), dvp.data(), dgp.data(), sizes.data(), first, o);
    }
    posapl::cuda::adamw_update(dpp.data() + first, dmp.data() + first, dvp.data() + first, dgp.data() + first,
                               sizes.data() + first, count - first, o);
  }
  for (int64_t k = 0; k < count; ++k) {
    const std::string t = " tensor " + std::to_string(k) + " (" + std::to_string(sizes[k]) + ")";
    expect_equal_bits("adamw p" + t, dp[k].get(), p[k]);
    expect_equal_bits("adamw m" + t, dm[k].get(), m[k]);
    expect_equal_bits("adamw v" + t, dv[k].get(), v[k]);
  }
}

void check_mlp_adapter(int64_t rows, int64_t C, int64_t R, int64_t Cout, bool want_dx) {
  const Vec x = random_vec(rows * C), w1 = random_vec(R * C, 0.2f), b1 = random_vec(R), w2 = random_vec(Cout * R, 0.2f),
            b2 = random_vec(Cout), dout = random_vec(rows * Cout);
  Vec out(rows * Cout), saved(posapl::mlp_adapter_saved_size(rows, R)), scratch(posapl::mlp_adapter_scratch_size(rows, R));
  Vec dx(rows * C), dw1 = random_vec(R * C), db1 = random_vec(R), dw2 = random_vec(Cout * R), db2 = random_vec(Cout);
  Dev dx_(x), dw1_(w1), db1_(b1), dw2_(w2), db2_(b2), ddout(dout);
  Dev dout_ = Dev::poisoned(rows * Cout), dsaved = Dev::poisoned(saved.size()), dscratch = Dev::poisoned(scratch.size());
  Dev ddx = Dev::poisoned(rows * C), gdw1(dw1), gdb1(db1), gdw2(dw2), gdb2(db2);
  posapl::cuda::mlp_adapter_forward(dout_.p, dsaved.p, dx_.p, dw1_.p, db1_.p, dw2_.p, db2_.p, rows, C, R, Cout);
  posapl::cuda::mlp_adapter_backward(want_dx ? ddx.p : nullptr, gdw1.p, gdb1.p, gdw2.p, gdb2.p, dscratch.p, ddout.p,
                                     dx_.p, dw1_.p, dw2_.p, dsaved.p, rows, C, R, Cout);
  posapl::mlp_adapter_forward(out.data(), saved.data(), x.data(), w1.data(), b1.data(), w2.data(), b2.data(), rows, C, R,
                              Cout);
  posapl::mlp_adapter_backward(want_dx ? dx.data() : nullptr, dw1.data(), db1.data(), dw2.data(), db2.data(),
                               scratch.data(), dout.data(), x.data(), w1.data(), w2.data(), saved.data(), rows, C, R,
                               Cout);
  const std::string s = "mlp_adapter " + std::to_string(rows) + "," + std::to_string(C) + "," + std::to_string(R) +
                        "," + std::to_string(Cout) + " ";
  expect_close(s + "out", dout_.get(), out, 1e-5);
  expect_close(s + "saved", dsaved.get(), saved, 1e-5);
  if (want_dx) expect_close(s + "dx", ddx.get(), dx, 1e-5);
  expect_close(s + "dw1", gdw1.get(), dw1, 1e-5);
  expect_close(s + "db1", gdb1.get(), db1, 1e-5);
  expect_close(s + "dw2", gdw2.get(), dw2, 1e-5);
  expect_close(s + "db2", gdb2.get(), db2, 1e-5);
}

void check_sa_adapter(int64_t N, int64_t L, int64_t C, int64_t R, int64_t H, bool want_dm) {
  const int64_t T = N * L;
  const Vec m = random_vec(T * C), wd = random_vec(R * C, 0.2f), bd = random_vec(R), win = random_vec(3 * R * R, 0.3f),
            bin = random_vec(3 * R), wo = random_vec(R * R, 0.3f), bo = random_vec(R), wu = random_vec(C * R, 0.3f),
            bu = random_vec(C), dout = random_vec(T * C);
  Vec out(T * C), saved(posapl::sa_adapter_saved_size(N, L, R, H)), scratch(posapl::sa_adapter_scratch_size(N, L, R));
  std::vector<Vec> grads = {random_vec(R * C), random_vec(R), random_vec(3 * R * R), random_vec(3 * R),
                            random_vec(R * R), random_vec(R), random_vec(C * R), random_vec(C)};
  Vec dm(T * C);
  Dev d_m(m), d_wd(wd), d_bd(bd), d_win(win), d_bin(bin), d_wo(wo), d_bo(bo), d_wu(wu), d_bu(bu), d_dout(dout);
  Dev d_out = Dev::poisoned(T * C), d_saved = Dev::poisoned(saved.size()), d_scratch = Dev::poisoned(scratch.size());
  Dev d_dm = Dev::poisoned(T * C);
  std::vector<Dev> d_grads;
  for (const Vec& gv : grads) d_grads.emplace_back(gv);
  posapl::cuda::sa_adapter_forward(d_out.p, d_saved.p, d_m.p, d_wd.p, d_bd.p, d_win.p, d_bin.p, d_wo.p, d_bo.p, d_wu.p,
                                   d_bu.p, N, L, C, R, H);
  posapl::cuda::sa_adapter_backward(want_dm ? d_dm.p : nullptr, d_grads[0].p, d_grads[1].p, d_grads[2].p, d_grads[3].p,
                                    d_grads[4].p, d_grads[5].p, d_grads[6].p, d_grads[7].p, d_scratch.p, d_dout.p, d_m.p,
                                    d_wd.p, d_win.p, d_wo.p, d_wu.p, d_saved.p, N, L, C, R, H);
  posapl::sa_adapter_forward(out.data(), saved.data(), m.data(), wd.data(), bd.data(), win.data(), bin.data(), wo.data(),
                             bo.data(), wu.data(), bu.data(), N, L, C, R, H);
  posapl::sa_adapter_backward(want_dm ? dm.data() : nullptr, grads[0].data(), grads[1].data(), grads[2].data(),
                              grads[3].data(), grads[4].data(), grads[5].data(), grads[6].data(), grads[7].data(),
                              scratch.data(), dout.data(), m.data(), wd.data(), win.data(), wo.data(), wu.data(),
                              saved.data(), N, L, C, R, H);
  const std::string s = "sa_adapter " + std::to_string(N) + "," + std::to_string(L) + "," + std::to_string(C) + "," +
                        std::to_string(R) + "," + std::to_string(H) + " ";
  expect_close(s + "out", d_out.get(), out, 1e-5);
  expect_close(s + "saved", d_saved.get(), saved, 1e-5);
  if (want_dm) expect_close(s + "dm", d_dm.get(), dm, 1e-5);
  const char* names[] = {"dwd", "dbd", "dwin", "dbin", "dwo", "dbo", "dwu", "dbu"};
  for (int i = 0; i < 8; ++i) expect_close(s + names[i], d_grads[i].get(), grads[i], 1e-5);
}

void check_side_fusion(int64_t N, int64_t L, int64_t C, bool chained, bool mean, bool want_df) {
  const int64_t T = N * L, S = mean ? N : T;
  std::vector<Vec> f = {random_vec(T * C), random_vec(T * C), random_vec(T * C), random_vec(T * C)};
  std::vector<Vec> w, b;
  for (int k = 0; k < 4; ++k) {
    w.push_back(random_vec(C * C, 0.15f));
    b.push_back(random_vec(C, 0.5f));
  }
  const Vec ds4 = random_vec(S * C);
  Vec s4(S * C), saved(posapl::side_fusion_saved_size(N, L, C, chained, mean)),
      scratch(posapl::side_fusion_scratch_size(N, L, C, mean));
  std::vector<Vec> df(4, Vec(T * C)), dw, db;
  for (int k = 0; k < 4; ++k) {
    dw.push_back(random_vec(C * C));
    db.push_back(random_vec(C));
  }
  std::vector<Dev> d_f, d_w, d_b, d_dw, d_db, d_df;
  for (int k = 0; k < 4; ++k) {
    d_f.emplace_back(f[k]);
    d_w.emplace_back(w[k]);
    d_b.emplace_back(b[k]);
    d_dw.emplace_back(dw[k]);
    d_db.emplace_back(db[k]);
    d_df.push_back(Dev::poisoned(T * C));
  }
  Dev d_ds4(ds4), d_s4 = Dev::poisoned(S * C), d_saved = Dev::poisoned(saved.size()),
                  d_scratch = Dev::poisoned(scratch.size());
  const bool has4 = chained;  // end-add has no f4 / df4
  // df2 is asked for only with want_df; the others always (df1 null is covered by want_df false).
  auto host_df = [&](int k) -> float* {
    if (k == 3) return has4 && want_df ? df[3].data() : nullptr;
    return want_df || k == 1 ? df[k].data() : nullptr;
  };
  auto dev_df = [&](int k) -> float* {
    if (k == 3) return has4 && want_df ? d_df[3].p : nullptr;
    return want_df || k == 1 ? d_df[k].p : nullptr;
  };
  posapl::cuda::side_fusion_forward(d_s4.p, d_saved.p, d_f[0].p, d_f[1].p, d_f[2].p, has4 ? d_f[3].p : nullptr,
                                    d_w[0].p, d_b[0].p, d_w[1].p, d_b[1].p, d_w[2].p, d_b[2].p, d_w[3].p, d_b[3].p, N, L,
                                    C, chained, mean);
  posapl::cuda::side_fusion_backward(dev_df(0), dev_df(1), dev_df(2), dev_df(3), d_dw[0].p, d_db[0].p, d_dw[1].p,
                                     d_db[1].p, d_dw[2].p, d_db[2].p, d_dw[3].p, d_db[3].p, d_scratch.p, d_ds4.p,
                                     d_f[0].p, d_f[1].p, d_f[2].p, d_w[0].p, d_w[1].p, d_w[2].p, d_w[3].p, d_saved.p, N,
                                     L, C, chained, mean);
  posapl::side_fusion_forward(s4.data(), saved.data(), f[0].data(), f[1].data(), f[2].data(),
                              has4 ? f[3].data() : nullptr, w[0].data(), b[0].data(), w[1].data(), b[1].data(),
                              w[2].data(), b[2].data(), w[3].data(), b[3].data(), N, L, C, chained, mean);
  posapl::side_fusion_backward(host_df(0), host_df(1), host_df(2), host_df(3), dw[0].data(), db[0].data(), dw[1].data(),
                               db[1].data(), dw[2].data(), db[2].data(), dw[3].data(), db[3].data(), scratch.data(),
                               ds4.data(), f[0].data(), f[1].data(), f[2].data(), w[0].data(), w[1].data(), w[2].data(),
                               w[3].data(), saved.data(), N, L, C, chained, mean);
  const std::string s = std::string("side_fusion ") + (chained ? "chained " : "end-add ") + (mean ? "mean " : "tokens ") +
                        (want_df ? "all df " : "df2 only ");
  expect_close(s + "s4", d_s4.get(), s4, 1e-5);
  expect_close(s + "saved", d_saved.get(), saved, 1e-5);
  for (int k = 0; k < 4; ++k) {
    if (host_df(k) != nullptr) expect_close(s + "df" + std::to_string(k + 1), d_df[k].get(), df[k], 1e-5);
    expect_close(s + "dw" + std::to_string(k + 1), d_dw[k].get(), dw[k], 1e-5);
    expect_close(s + "db" + std::to_string(k + 1), d_db[k].get(), db[k], 1e-5);
  }
}

}  // namespace

#ifndef POSAPL_CHECK_WITH_CUDA_ATTENTION
// Test-only attention for the SA-adapter check: the CPU's, through host copies.
namespace posapl::cuda {
namespace {
Vec to_host(const float* p, int64_t n) {
  POSAPL_CUDA_CHECK(cudaStreamSynchronize(stream()));
  Vec v(n);
  POSAPL_CUDA_CHECK(cudaMemcpy(v.data(), p, n * sizeof(float), cudaMemcpyDeviceToHost));
  return v;
}
void to_device(float* p, const Vec& v) {
  POSAPL_CUDA_CHECK(cudaMemcpy(p, v.data(), v.size() * sizeof(float), cudaMemcpyHostToDevice));
  POSAPL_CUDA_CHECK(cudaDeviceSynchronize());
}
}  // namespace
void attention_forward(float* out, float* probs, const float* qkv, int64_t B, int64_t L, int64_t H, int64_t D,
                       bool causal) {
  const Vec q = to_host(qkv, B * L * 3 * H * D);
  Vec o(B * L * H * D), p(B * H * L * L);
  posapl::attention_forward(o.data(), p.data(), q.data(), B, L, H, D, causal);
  to_device(out, o);
  to_device(probs, p);
}
void attention_backward(float* dqkv, const float* dout, const float* qkv, const float* probs, int64_t B, int64_t L,
                        int64_t H, int64_t D, bool causal) {
  const Vec d = to_host(dout, B * L * H * D), q = to_host(qkv, B * L * 3 * H * D), p = to_host(probs, B * H * L * L);
  Vec dq(B * L * 3 * H * D);
  posapl::attention_backward(dq.data(), d.data(), q.data(), p.data(), B, L, H, D, causal);
  to_device(dqkv, dq);
}
}  // namespace posapl::cuda
#endif

int main() {
  try {
    using posapl::Activation;
    for (int mode = 0; mode < 2; ++mode) {
      posapl::cuda::set_math_mode(mode == 0 ? posapl::cuda::MathMode::Fp32 : posapl::cuda::MathMode::Tf32);
      const double tol = mode == 0 ? 1e-5 : 1e-3;
      std::printf("-- gemm, %s\n", mode == 0 ? "fp32" : "tf32");
      for (int ta = 0; ta < 2; ++ta)
        for (int tb = 0; tb < 2; ++tb) {
          check_gemm(ta, tb, 37, 53, 29, 0.0f, false, Activation::None, false, 0, tol);
          check_gemm(ta, tb, 37, 53, 29, 1.0f, true, Activation::Relu, true, 3, tol);
          check_gemm(ta, tb, 130, 70, 300, 0.5f, true, Activation::Gelu, true, 1, tol);
        }
      check_gemm(false, true, 1600, 768, 768, 0.0f, true, Activation::Gelu, true, 0, tol);
      check_gemm(true, false, 768, 768, 6400, 1.0f, false, Activation::None, false, 0, tol);
    }
    posapl::cuda::set_math_mode(posapl::cuda::MathMode::Fp32);
    check_gemm(false, true, 9, 11, 0, 0.5f, true, Activation::Relu, true, 2, 1e-6);  // K = 0: the epilogue alone
    check_gemm(false, true, 9, 11, 0, 0.0f, false, Activation::None, false, 0, 1e-6);
    std::printf("-- bias_grad, elementwise, adamw\n");
    check_bias_grad(5, 100, false);
    check_bias_grad(3000, 100, true);
    check_bias_grad(300000, 37, false);
    check_bias_grad(0, 10, false);
    check_elementwise();
    check_adamw();
    std::printf("-- adapters\n");
    check_mlp_adapter(200, 64, 16, 64, true);
    check_mlp_adapter(770, 512, 128, 512, false);
    check_sa_adapter(3, 7, 32, 16, 2, true);
    check_sa_adapter(4, 50, 768, 128, 8, false);
    for (int chained = 0; chained < 2; ++chained)
      for (int mean = 0; mean < 2; ++mean)
        for (int want_df = 0; want_df < 2; ++want_df)
          check_side_fusion(mean ? 3 : 5, mean ? 50 : 1, 64, chained, mean, want_df);
    check_side_fusion(16, 50, 768, true, true, true);
  } catch (const posapl::BackendError& e) {
    std::printf("FAIL BackendError %s: %s\n", e.code, e.what());
    return 1;
  }
  std::printf("%s: %d failure(s)\n", failures == 0 ? "PASS" : "FAIL", failures);
  return failures == 0 ? 0 : 1;
}
