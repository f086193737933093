// Types of scripts/build.mjs for the TypeScript that imports it (the unit tests).
export interface ExtensionBundle {
  /** A source file under extension/, or a package name. */
  entry: string;
  /** Where the build writes it, relative to the repository. */
  outfile: string;
}
export declare function commandAreas(root?: string): string[];
export declare function extensionBundles(root?: string): ExtensionBundle[];
export declare function entries(root?: string): Record<string, unknown>[];
