{
  "targets": [
    {
      "target_name": "tunnelplane_aes",
      "sources": ["aes_layer.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=c11"]
    }
  ]
}
