// @ts-check
/**
 * The system's Chromium, driven by playwright-core (never a downloaded browser), with the flags
 * every suite and bench uses on shared, sandbox-less machines.
 */
import { chromium } from 'playwright-core';

/** Flags for headless Chromium without a sandbox, GPU or background traffic. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Launches the Chromium at `executablePath`.
 * @param {string} executablePath
 */
export function launchChromium(executablePath) {
  return chromium.launch({ executablePath, args: CHROMIUM_ARGS });
}
