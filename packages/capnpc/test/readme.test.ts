// A README example is code: each runs as written against this package's build (from the
// repository root, where the README's request file is).
import { testReadme } from '@ww/readme-run/jest'

testReadme(new URL('..', import.meta.url), { cwd: new URL('../../..', import.meta.url) })
