/** The native op set, each module one concept. */
export * from './gemm';
