// @ts-check
/**
 * TypeDoc plugin: the `notDocumented` check covers what a package exports and the members of
 * its interfaces and classes, but not the fields of anonymous inline object types
 * (`{ type: 'sessions'; ids: string[] }` inside a union, `Promise<{ complete: boolean }>`).
 * Those are documented by the alias, property or method that holds them; asking for a comment
 * on every such field made the check noisy without making the docs better (docs/decisions.md).
 *
 * How: just before TypeDoc validates a project, the uncommented inline fields are added to
 * `intentionallyNotDocumented`. With `entryPointStrategy: "packages"` the validation that
 * counts runs on the merged project, after the `reviveProject` event.
 */
import { Application, Converter, ReflectionKind } from 'typedoc';

/** @param {import('typedoc').Application} app */
export function load(app) {
  /** @param {import('typedoc').ProjectReflection} project */
  const exemptInlineFields = (project) => {
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
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => exemptInlineFields(context.project));
  app.on(Application.EVENT_PROJECT_REVIVE, exemptInlineFields);
}

/** @param {import('typedoc').Reflection} reflection */
function hasParameterAncestor(reflection) {
  for (let r = reflection.parent; r; r = r.parent) {
    if (r.kindOf(ReflectionKind.Parameter)) return true;
  }
  return false;
}
