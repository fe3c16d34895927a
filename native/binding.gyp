{
  "targets": [
    {
      "target_name": "tunnelplane_aes",
      "sources": ["aes_layer.c", "aes_multikey.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=c11"],
      "ldflags": ["-Wl,-z,now"]
    }
  ]
}
