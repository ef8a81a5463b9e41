public enum CompressionCodecPlaceholder {}
