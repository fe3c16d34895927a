export * from './leaseset2.js';
