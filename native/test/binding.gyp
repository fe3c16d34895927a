{
  "targets": [
    {
      "target_name": "tunnelplane_aes_test",
      "sources": ["../aes_layer.c", "../aes_multikey.c"],
      "defines": ["TUNNELPLANE_TEST_HOOKS"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=c11"],
      "ldflags": ["-Wl,-z,now"]
    }
  ]
}
