// A README example is code: each runs as written against this package's build.
import { testReadme } from '@ww/readme-run/jest'

testReadme(new URL('..', import.meta.url))
