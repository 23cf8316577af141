export { PosixDriver } from './posix-driver.js';
