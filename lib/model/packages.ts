import { z } from 'zod';
import type { Parameter } from './entity';
import { commonPutFields, parametersField, type EntityDocument } from './common';

export const packagePutSchema = z.object({
  ...commonPutFields,
  parameters: parametersField,
  binding: z.union([z.object({ namespace: z.string(), name: z.string() }), z.object({}).strict()]).optional(),
});

export type PackagePut = z.infer<typeof packagePutSchema>;

export interface PackageBinding {
  namespace: string;
  name: string;
}

/** A package, or (with `binding` set) a binding to another package. */
export interface PackageDoc extends EntityDocument {
  parameters: Parameter[];
  binding: PackageBinding | Record<string, never>;
}

export function bindingOf(pkg: PackageDoc): PackageBinding | undefined {
  return 'name' in pkg.binding ? (pkg.binding as PackageBinding) : undefined;
}
