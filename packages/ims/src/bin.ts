process.stderr.write('imsplex-ims: not built yet\n');
process.exit(1);
