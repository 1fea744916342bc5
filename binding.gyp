{
  "targets": [
    {
      "target_name": "ringtrace",
      "sources": [
        "native/addon/addon.cc",
        "native/addon/consumer_binding.cc",
        "native/addon/snapshot_binding.cc",
        "native/addon/write_packet.cc",
        "native/addon/flight_binding.cc",
        "native/addon/producer_binding.c",
        "native/addon/gc_binding.c",
        "native/ring/session.c",
        "native/ring/clock.c",
        "native/ring/clock_sync.c",
        "native/ring/clock_map.c",
        "native/ring/consumer.c",
        "native/ring/salvage.c",
        "native/ring/writers.c",
        "native/ring/trigger.c",
        "native/ring/producer_slow.c",
        "native/ring/overwrite.c",
        "native/ring/snapshot.c",
        "native/ring/registry.c",
        "native/ring/error.c",
        "native/ring/packet.c",
        "native/ring/consumer_lock.c"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/include",
        "native/ring"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Werror"],
      "cflags_c": ["-std=gnu11", "-Wshadow", "-Wstrict-prototypes", "-Wmissing-prototypes"],
      "cflags_cc": ["-std=gnu++17"]
    }
  ]
}
