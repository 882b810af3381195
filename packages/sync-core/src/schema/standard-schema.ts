/**
 * The Standard Schema interface (https://standardschema.dev, version 1), written out here so
 * sync-core accepts a schema from zod, valibot, arktype or any other implementation without
 * depending on one. Types only: nothing of this file exists at runtime.
 *
 * @module
 */

/** A path segment of a {@link StandardSchemaIssue} given as an object. */
export interface StandardSchemaPathSegment {
  /** The key of this segment. */
  readonly key: PropertyKey;
}

/** One problem found by a schema's `validate`. */
export interface StandardSchemaIssue {
  /** The library's message. */
  readonly message: string;
  /** Where in the value the problem is, if the library says. */
  readonly path?: ReadonlyArray<PropertyKey | StandardSchemaPathSegment> | undefined;
}

/** What `validate` answers: the (possibly transformed) value, or the issues. */
export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardSchemaIssue> };

/** The input and output types a schema carries (types only, never set at runtime). */
export interface StandardSchemaTypes<Input = unknown, Output = Input> {
  /** The type the schema accepts. */
  readonly input: Input;
  /** The type the schema produces. */
  readonly output: Output;
}

/** The `~standard` property of a schema. */
export interface StandardSchemaProps<Input = unknown, Output = Input> {
  /** The version of the spec: 1. */
  readonly version: 1;
  /** The library, e.g. `'zod'`. */
  readonly vendor: string;
  /** Checks a value. syncline needs an answer at once, so it refuses a `Promise` answer. */
  readonly validate: (
    value: unknown,
  ) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
  /** The schema's types, for inference only. */
  readonly types?: StandardSchemaTypes<Input, Output> | undefined;
}

/**
 * A schema of any Standard Schema library (zod 3.24+, valibot 1, arktype 2, ...).
 *
 * @example
 * ```ts
 * import { z } from 'zod';
 * const todo: StandardSchemaV1<unknown, { title: string }> = z.object({ title: z.string() });
 * ```
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  /** The Standard Schema properties. */
  readonly '~standard': StandardSchemaProps<Input, Output>;
}

/** The type a schema produces, e.g. `InferSchemaOutput<typeof todoSchema>`. */
export type InferSchemaOutput<Schema extends StandardSchemaV1> = NonNullable<
  Schema['~standard']['types']
>['output'];
