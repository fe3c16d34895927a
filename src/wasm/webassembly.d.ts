// The WebAssembly JavaScript API as Node provides it (WebAssembly JS API spec, §5), limited to what this project
// uses. TypeScript ships these types only with lib "DOM" / "WebWorker", which would also declare browser globals that
// Node does not have; @types/node does not declare them.
declare namespace WebAssembly {
  type ImportExportKind = 'function' | 'global' | 'memory' | 'table' | 'tag';
  interface ModuleExportDescriptor {
    kind: ImportExportKind;
    name: string;
  }
  interface ModuleImportDescriptor {
    kind: ImportExportKind;
    module: string;
    name: string;
  }
  type Bytes = ArrayBuffer | ArrayBufferView;
  type Imports = Record<string, Record<string, unknown>>;
  type Exports = Record<string, unknown>;

  // An opaque compiled module: no members of its own.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Module {}
  const Module: {
    prototype: Module;
    new (bytes: Bytes): Module;
    exports(module: Module): ModuleExportDescriptor[];
    imports(module: Module): ModuleImportDescriptor[];
  };

  interface Instance {
    readonly exports: Exports;
  }
  const Instance: { prototype: Instance; new (module: Module, imports?: Imports): Instance };

  interface Memory {
    readonly buffer: ArrayBuffer;
    grow(delta: number): number;
  }
  const Memory: {
    prototype: Memory;
    new (descriptor: { initial: number; maximum?: number; shared?: boolean }): Memory;
  };

  interface Global {
    value: unknown;
    valueOf(): unknown;
  }

  function validate(bytes: Bytes): boolean;
  function compile(bytes: Bytes): Promise<Module>;
}
