import type { Browser } from 'playwright-core';

/** Flags for headless Chromium without a sandbox, GPU or background traffic. */
export declare const CHROMIUM_ARGS: string[];

/** Launches the system's Chromium at `executablePath` (never a downloaded browser). */
export declare function launchChromium(executablePath: string): Promise<Browser>;
