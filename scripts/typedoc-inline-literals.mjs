// @ts-check
/**
 * TypeDoc plugin that makes `validation.notDocumented` do what this repository means by it
 * (docs/decisions.md, "The API reference fails on undocumented exports"):
 *
 * 1. Every workspace package is checked. With `entryPointStrategy: "packages"`, TypeDoc checks
 *    the merged project only for `packagesRequiringDocumentation`, which defaults to the root
 *    package (`syncline-monorepo`), so without this nothing of `@syncline/*` would be checked.
 *    The list is every publishable `packages/<name>/package.json`, found at run time, so a new
 *    package needs no edit of typedoc.json.
 * 2. Fields of anonymous inline object types (`{ type: 'sessions'; ids: string[] }` inside a
 *    union, `Promise<{ complete: boolean }>`) are exempt: the alias, property or method that
 *    holds them carries the documentation, and a comment on every such field made the check
 *    noisy without making the reference better. They are added to `intentionallyNotDocumented`.
 *
 * Both happen just before TypeDoc validates: on `reviveProject` (packages mode: the
 * validation that counts runs on the merged project) and on the converter's resolve end.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Application, Converter, ReflectionKind } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  /** @param {import('typedoc').ProjectReflection} project */
  const prepareValidation = (project) => {
    if (!app.options.isSet('packagesRequiringDocumentation')) {
      const names = workspacePackageNames();
      if (project.packageName) names.push(project.packageName);
      app.options.setValue('packagesRequiringDocumentation', [...new Set(names)]);
    }
    const inlineFields = project
      .getReflectionsByKind(ReflectionKind.Property | ReflectionKind.Method)
      .filter((r) => r.parent?.kindOf(ReflectionKind.TypeLiteral) && !r.hasComment())
      // TypeDoc itself never asks for comments inside a parameter's type; listing those
      // would only produce "marked as intentionally not documented but unused" warnings.
      .filter((r) => !hasParameterAncestor(r))
      .map((r) => r.getFriendlyFullName());
    if (inlineFields.length === 0) return;
    const current = app.options.getValue('intentionallyNotDocumented');
    app.options.setValue('intentionallyNotDocumented', [...new Set([...current, ...inlineFields])]);
  };
  // Lowest priority: TypeDoc's own plugins (comments, categories, inheritDoc) listen to these
  // events too and may still attach comments; judge only what they leave.
  app.converter.on(
    Converter.EVENT_RESOLVE_END,
    (context) => prepareValidation(context.project),
    -1000,
  );
  app.on(Application.EVENT_PROJECT_REVIVE, prepareValidation, -1000);
}

/** Names of the publishable packages under `packages/` (relative to the working directory). */
function workspacePackageNames() {
  const dir = 'packages';
  if (!existsSync(dir)) return [];
  const names = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const manifest = join(dir, entry.name, 'package.json');
    if (!entry.isDirectory() || !existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
    if (typeof pkg.name === 'string' && pkg.private !== true) names.push(pkg.name);
  }
  return names;
}

/** @param {import('typedoc').Reflection} reflection */
function hasParameterAncestor(reflection) {
  for (let r = reflection.parent; r; r = r.parent) {
    if (r.kindOf(ReflectionKind.Parameter)) return true;
  }
  return false;
}
