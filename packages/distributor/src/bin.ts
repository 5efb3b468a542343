process.stderr.write('imsplex-distributor: not built yet\n');
process.exit(1);
