export * from './balancer.js';
export * from './policy.js';
export * from './report.js';
