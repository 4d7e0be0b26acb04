/** The Pachyderm port: types, references, errors and the interface (adapters live in subfolders). */
export * from './errors';
export * from './types';
export * from './refs';
export * from './port';
