export function targetingSecurity(_f: unknown): void {}
