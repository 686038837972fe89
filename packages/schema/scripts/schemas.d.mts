export declare const SCHEMAS_DIR: string
export declare const REQUEST_PATH: string
export declare const PACKAGE_DIR: string
export declare const TS_OUT: string
export declare const AS_OUT: string
export declare function findCapnp(): string | null
export declare function schemaFiles(): string[]
export declare function compileRequest(capnp: string): Buffer
