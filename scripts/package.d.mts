// Types of scripts/package.mjs for the TypeScript that imports it (the unit tests, the e2e harness).
export declare const target: { vsce: string; os: string; cpu: string; libc: string };
export declare const runtimeRoots: string[];
export declare const skippedDependencies: Record<string, string>;
export interface StagedPackage {
  name: string;
  /** Folder relative to the node_modules it was found in (nested copies keep their place). */
  dir: string;
}
export declare function forTarget(name: string, pkg: { os?: string[]; cpu?: string[]; libc?: string[] }): boolean;
export declare function runtimeClosure(nodeModules: string, roots?: string[]): StagedPackage[];
export declare function keepFile(name: string, file: string): boolean;
export declare function stagePackages(nodeModules: string, packages: StagedPackage[], into: string): { files: number; bytes: number };
export declare function zipEntries(buf: Buffer): { name: string; compressed: number; size: number }[];
export declare function megabytes(bytes: number): string;
export declare function packageExtension(
  repo: string,
  options?: { out?: string; stage?: string; log?: (message: string) => void },
): Promise<{ vsix: string; bytes: number; unpackedBytes: number; files: number }>;
