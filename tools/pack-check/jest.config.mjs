import preset from '../../jest.preset.mjs'
// Packing and eight npm installs: minutes on a cold npm cache, not seconds.
export default { ...preset, testTimeout: 300_000 }
