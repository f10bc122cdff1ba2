// Times OpenBLAS cblas_sgemm on one row-major shape, the way bench/kernels.js times posapl:
//   openblas_gemm M K N nn|nt|tn [min_seconds]
// prints the best GFLOPS over repetitions (after one warm-up call) on stdout.
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static float* filled(size_t n, unsigned seed) {
  float* p = malloc(n * sizeof(float));
  if (!p) exit(2);
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    p[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
  }
  return p;
}

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s M K N nn|nt|tn [min_seconds]\n", argv[0]);
    return 1;
  }
  const int M = atoi(argv[1]), K = atoi(argv[2]), N = atoi(argv[3]);
  const char* trans = argv[4];
  const double min_seconds = argc > 5 ? atof(argv[5]) : 0.5;
  if (M < 1 || K < 1 || N < 1 || strlen(trans) != 2) return 1;
  const int ta = trans[0] == 't', tb = trans[1] == 't';
  // Same storage as posapl: A (M,K) or (K,M), B (K,N) or (N,K), C (M,N), all row-major.
  float* A = filled((size_t)M * K, 1);
  float* B = filled((size_t)K * N, 2);
  float* C = filled((size_t)M * N, 3);
  const int lda = ta ? M : K, ldb = tb ? K : N;
  const enum CBLAS_TRANSPOSE opA = ta ? CblasTrans : CblasNoTrans, opB = tb ? CblasTrans : CblasNoTrans;
  cblas_sgemm(CblasRowMajor, opA, opB, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, N);
  double best = 1e30, spent = 0;
  for (int rep = 0; rep < 50 && (rep < 3 || spent < min_seconds); ++rep) {
    const double t0 = now();
    cblas_sgemm(CblasRowMajor, opA, opB, M, N, K, 1.0f, A, lda, B, ldb, 0.0f, C, N);
    const double dt = now() - t0;
    spent += dt;
    if (dt < best) best = dt;
  }
  printf("%.2f\n", 2.0 * M * N * K / best * 1e-9);
  free(A);
  free(B);
  free(C);
  return 0;
}
