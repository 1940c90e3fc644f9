// Prints gradients with "db1" twice: JSON.parse would keep the second silently.
process.stdout.write('{"dW1": [[0, 0], [0, 0], [0, 0], [0, 0]], "db1": [[0], [0], [0], [0]], "dW2": [[0, 0, 0, 0]], "db1": [[1], [1], [1], [1]], "db2": [[0]]}\n');
