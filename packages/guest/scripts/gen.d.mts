export const REQUEST_PATH: string
export const GEN_DIR: string
export function generateStubs(): Map<string, string>
export function staleStubs(files?: Map<string, string>): string[]
