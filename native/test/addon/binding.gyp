# The TEST build of the addon: the same sources and flags as the addon apps
# load (../../../binding.gyp, read by from-root.js so the two never drift),
# plus RT_TEST_HOOKS, which compiles in the hooks that make a producer kill,
# stop or stall itself mid-record (native/addon/producer_binding.c). Built by
# `npm run build:test-addon` (npm test does it first) into
# native/test/addon/build/Release/ringtrace_test.node; tests load it through
# RINGTRACE_ADDON. Never packaged, never loaded by default.
{
  "targets": [
    {
      "target_name": "ringtrace_test",
      "sources": ["<!@(node from-root.js sources)"],
      "include_dirs": ["<!@(node from-root.js include_dirs)"],
      "defines": ["<!@(node from-root.js defines)", "RT_TEST_HOOKS"],
      "cflags": ["<!@(node from-root.js cflags)"],
      "cflags_c": ["<!@(node from-root.js cflags_c)"],
      "cflags_cc": ["<!@(node from-root.js cflags_cc)"]
    }
  ]
}
