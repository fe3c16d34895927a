// The one WASM module: every hot-path kernel is exported from here. One module per flavor (plain, SIMD, debug),
// all with the same exports (asconfig.json). Add one `export * from` line per kernel file.
export * from "./layout";
export * from "./chacha20";
export * from "./poly1305";
export * from "./sha256";
export * from "./aes";
export * from "./layer";
export * from "./ntcp2";
