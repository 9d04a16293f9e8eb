/**
 * The one logging shape: the host writes it to the "Model Lab" output channel, the engine and
 * the workers pass it along, so plain modules log without importing 'vscode'.
 */
export type LogLevel = 'info' | 'warn' | 'error';

export type Log = (level: LogLevel, message: string) => void;
