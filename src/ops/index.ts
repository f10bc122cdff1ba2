/** The native op set, each module one concept. */
export * from './gemm';
export * from './losses';
export * from './adamw';
export * from './layernorm';
export * from './attention';
export * from './l2norm';
export * from './embedding';
export * from './token_mean';
export * from './patchEmbed';
export * from './elementwise';
export * from './mlp_adapter';
export * from './sa_adapter';
export * from './side_fusion';
