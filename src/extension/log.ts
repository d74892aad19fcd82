import * as vscode from 'vscode';

/** The "Dataset Curator" output channel. Never pass secrets here. */
export class Log implements vscode.Disposable {
  private readonly channel: vscode.LogOutputChannel;
  /** One channel per name: a second Log with the same name would share (and on dispose, close) it. */
  constructor(name = 'Dataset Curator') {
    this.channel = vscode.window.createOutputChannel(name, { log: true });
  }
  info(message: string): void {
    this.channel.info(message);
  }
  warn(message: string): void {
    this.channel.warn(message);
  }
  error(message: string, err?: unknown): void {
    this.channel.error(err instanceof Error ? `${message}: ${err.message}` : message);
  }
  show(): void {
    this.channel.show(true);
  }
  dispose(): void {
    this.channel.dispose();
  }
}
