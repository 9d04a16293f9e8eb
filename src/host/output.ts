/**
 * The "Model Lab" output channel (a LogOutputChannel: levels, timestamps, the user's log-level
 * filter). Everything the host logs goes through `Log`, so plain modules can log without
 * importing 'vscode'.
 */
import * as vscode from 'vscode';

export type LogLevel = 'info' | 'warn' | 'error';
export type Log = (level: LogLevel, message: string) => void;

export function createOutputChannel(): vscode.LogOutputChannel {
  return vscode.window.createOutputChannel('Model Lab', { log: true });
}

export function logTo(channel: vscode.LogOutputChannel): Log {
  return (level, message) => {
    if (level === 'error') channel.error(message);
    else if (level === 'warn') channel.warn(message);
    else channel.info(message);
  };
}

/** The message of an unknown error, for the user: never a stack trace. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Logs the full error (with stack) and returns the short message for a notification. */
export function logError(log: Log, context: string, error: unknown): string {
  const message = errorMessage(error);
  log('error', `${context}: ${error instanceof Error && error.stack ? error.stack : message}`);
  return message;
}
