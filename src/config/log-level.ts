/** The log levels, least to most verbose. A leaf: config/ parses them, cli/ prints by them. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
