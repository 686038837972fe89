import preset from '../../jest.preset.mjs'
// forceExit: after a file whose scenarios ran in-process hosts (the word-count job's workers)
// or the stream churn, jest stayed alive after its summary although every `ww host`, relay
// and in-process host was closed (the handle was not found; README, "Not yet here"), and a
// runner that never ends blocks CI and scripts/stress.mjs.
export default { ...preset, forceExit: true }
