// I2NP codec: standard header and the bodies the data plane touches (i2np.md).
export * from './header.js';
export * from './bodies.js';
