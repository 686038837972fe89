// This README's and the repository's PLUGINS.md's examples run as written, against this
// package's build (PLUGINS.md imports it by name, as a user of the plugin would).
import { testReadme } from '@ww/readme-run/jest'

const here = new URL('..', import.meta.url)
testReadme(here, { install: false })
testReadme(here, { install: false, file: '../../PLUGINS.md' })
